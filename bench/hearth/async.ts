import { submitThenPoll, type AsyncRun } from '../load.ts';
import type { HearthApi } from './api.ts';
import { NOOP } from './warm.ts';

export type AsyncFigures = AsyncRun;

/** `n` async invocations of the no-op submitted by 64 callers, then each polled until final (see submitThenPoll). */
export async function measureAsync(api: HearthApi, n: number): Promise<AsyncFigures> {
  return submitThenPoll(n, () => api.submit(NOOP.name), async (id) => {
    const status = await api.status(id);
    return status === 'succeeded' || status === 'failed' ? status : 'pending';
  });
}
