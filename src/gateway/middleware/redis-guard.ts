import type { MiddlewareHandler } from 'hono';
import { HearthError } from '../../errors/index.ts';

/** What the guard needs to know about Redis (RedisHealth implements it). */
export interface RedisGate {
  readonly isUp: boolean;
  unreachableFor(graceMs: number): { promise: Promise<void>; cancel(): void };
}

export interface RedisGuardOptions {
  redis: RedisGate | undefined;
  /** A request already running when Redis goes away gets this long for Redis to come back (default 1000 ms). */
  graceMs?: number;
  /** Retry-After, in seconds (default 1). */
  retryAfterSeconds?: number;
}

function unavailable(retryAfterSeconds: number, message: string): HearthError {
  return new HearthError('unavailable', message, { retryAfterSeconds });
}

/**
 * Fail fast while Redis is unreachable: a request that needs it is answered 503 `unavailable`
 * with Retry-After at once instead of waiting in ioredis' offline queue (which never gives up).
 * A request already in flight when Redis goes away is answered the same way after `graceMs`,
 * so nothing waits more than ~2 s; its work may still complete when Redis is back.
 *
 * @example
 * app.use('/v1/*', failFastWithoutRedis({ redis: health }));
 */
export function failFastWithoutRedis(opts: RedisGuardOptions): MiddlewareHandler {
  const graceMs = opts.graceMs ?? 1000;
  const retryAfter = opts.retryAfterSeconds ?? 1;
  return async function redisGuard(c, next) {
    const redis = opts.redis;
    if (!redis) return next();
    if (!redis.isUp) throw unavailable(retryAfter, 'Redis is unreachable; try again shortly');
    const lost = redis.unreachableFor(graceMs);
    const handled = next();
    // The handler may still settle after we answered: its outcome is no longer anyone's to see.
    handled.catch(() => undefined);
    try {
      await Promise.race([
        handled,
        lost.promise.then(() => { throw unavailable(retryAfter, 'Redis became unreachable while the request was handled; it may still complete'); }),
      ]);
    } finally {
      lost.cancel();
    }
  };
}
