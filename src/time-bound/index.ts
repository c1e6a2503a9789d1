/**
 * Waiting for work at most so long. Redis clients here retry forever while Redis is gone (BullMQ
 * needs that) and a container may ignore a signal, so a stop, a kill or a cluster bookkeeping call
 * waits with a bound: none of them may hold up a request or a shutdown. The work itself goes on.
 */

/**
 * True when `work` settled (resolved or rejected) within `ms`, false when the time ran out first.
 * `Infinity` waits as long as the work takes.
 */
export async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  const settled = work.then(() => true as const, () => true as const);
  // setTimeout would turn Infinity into 1 ms.
  if (!Number.isFinite(ms)) return settled;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
    timer.unref();
  });
  try {
    return await Promise.race([settled, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Thrown by `bounded` when the operation did not settle in time. */
export class BoundTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not answer within ${ms} ms`);
    this.name = 'BoundTimeoutError';
  }
}

/** `op`'s outcome if it settles within `ms`, else a BoundTimeoutError naming `what`. */
export function bounded<T>(op: Promise<T>, ms: number, what = 'redis'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BoundTimeoutError(what, ms)), ms);
    timer.unref();
  });
  // The loser may still settle later: keep its rejection from becoming unhandled.
  op.catch(() => undefined);
  return Promise.race([op, expired]).finally(() => clearTimeout(timer));
}
