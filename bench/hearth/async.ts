import { inParallel } from '../load.ts';
import { sleep } from '../stats.ts';
import type { HearthApi } from './api.ts';
import { NOOP } from './warm.ts';

export interface AsyncFigures {
  invocations: number;
  /** From the first submission until every invocation was seen final, ms. */
  totalMs: number;
  perSecond: number;
  failed: number;
}

/**
 * `n` async invocations of the no-op submitted by 64 callers, then each polled until final.
 * Polling starts once all are submitted (so it does not compete with submission) and walks the ids
 * in submission order: by the time a late id is final most earlier ones are, so few polls repeat.
 */
export async function measureAsync(api: HearthApi, n: number): Promise<AsyncFigures> {
  const ids = new Array<string>(n);
  const start = performance.now();
  await inParallel(n, 64, async (i) => {
    ids[i] = await api.submit(NOOP.name);
  });
  let failed = 0;
  const deadline = Date.now() + 180_000;
  await inParallel(n, 8, async (i) => {
    for (;;) {
      const status = await api.status(ids[i]!);
      if (status === 'succeeded') return;
      if (status === 'failed') return void failed++;
      if (Date.now() > deadline) throw new Error(`async: invocation ${ids[i]} still ${status} after 180 s`);
      await sleep(2);
    }
  });
  const totalMs = performance.now() - start;
  return { invocations: n, totalMs, perSecond: n / (totalMs / 1000), failed };
}
