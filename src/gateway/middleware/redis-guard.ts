import type { MiddlewareHandler } from 'hono';
import { HearthError } from '../../errors/index.ts';

/** What the guard needs to know about Redis (RedisHealth implements it). */
export interface RedisGate {
  readonly isUp: boolean;
  /** Since when Redis has been unreachable (epoch ms; a hung server counts from its last unanswered probe). */
  readonly unreachableSince: number | undefined;
  /** Called on every change between up and down; returns the unsubscribe. */
  onChange(listener: (up: boolean) => void): () => void;
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
 * One timer per outage ends every request in flight, rather than a watch per request: the guard
 * is on every API call, and a per-request watch (a promise, a timer, a listener and a race) cost
 * ~2 KB and a few µs each.
 *
 * @example
 * app.use('/v1/*', failFastWithoutRedis({ redis: health }));
 */
export function failFastWithoutRedis(opts: RedisGuardOptions): MiddlewareHandler {
  const redis = opts.redis;
  if (!redis) return (_c, next) => next();
  const graceMs = opts.graceMs ?? 1000;
  const retryAfter = opts.retryAfterSeconds ?? 1;
  /** How to answer each request in flight 503 (its promise's reject). */
  const inFlight = new Set<(err: HearthError) => void>();
  let outage: NodeJS.Timeout | undefined;
  const endInFlight = (): void => {
    outage = undefined;
    const err = unavailable(retryAfter, 'Redis became unreachable while the request was handled; it may still complete');
    for (const end of inFlight) end(err);
    inFlight.clear();
  };
  redis.onChange((up) => {
    clearTimeout(outage);
    outage = undefined;
    if (up) return;
    const since = redis.unreachableSince ?? Date.now();
    outage = setTimeout(endInFlight, Math.max(0, graceMs - (Date.now() - since)));
    outage.unref();
  });
  return function redisGuard(_c, next) {
    if (!redis.isUp) throw unavailable(retryAfter, 'Redis is unreachable; try again shortly');
    // Settled by the handler, or by the outage timer first; the handler may still settle after
    // we answered: its outcome is then no longer anyone's to see.
    return new Promise<void>((resolve, reject) => {
      inFlight.add(reject);
      next().then(
        () => {
          inFlight.delete(reject);
          resolve();
        },
        (err: unknown) => {
          inFlight.delete(reject);
          reject(err);
        },
      );
    });
  };
}
