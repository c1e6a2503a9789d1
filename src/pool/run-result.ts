import { HearthError } from '../errors/index.ts';
import type { InvokeOutcome } from '../runtime/index.ts';
import { PoolTimeoutError } from './wait-queue.ts';

export interface RunResult {
  outcome: InvokeOutcome;
  coldStart: boolean;
  /** The container came from a stem cell specialized for this invocation. */
  stemCell: boolean;
  containerId: string | null;
}

/**
 * The outcome of an invocation that never got a container: its deadline passed while waiting
 * (`timeout`), the pool was shutting down (`internal`), the image could not be had
 * (`image_unavailable`: infrastructure, never charged to the function's code), or the start failed
 * (the function's init error, reported as `function_error` and as a cold start).
 */
export function notAcquired(err: unknown, shuttingDown: boolean): RunResult {
  const timedOut = err instanceof PoolTimeoutError;
  const code = timedOut ? 'timeout'
    : shuttingDown ? 'internal'
    : err instanceof HearthError && err.code === 'image_unavailable' ? 'image_unavailable'
    : 'function_error';
  return {
    outcome: { ok: false, error: { code, message: (err as Error).message }, logs: [], durationMs: 0 },
    coldStart: !timedOut,
    stemCell: false,
    containerId: null,
  };
}
