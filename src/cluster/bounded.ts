/** Thrown by `bounded` when the operation did not settle in time. */
export class BoundTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not answer within ${ms} ms`);
    this.name = 'BoundTimeoutError';
  }
}

/**
 * Waits for `op` at most `ms`. Redis clients here retry forever while Redis is gone (BullMQ needs
 * that), so every cluster bookkeeping call is bounded: a heartbeat or a deregistration must never
 * hold up a request or a shutdown.
 */
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
