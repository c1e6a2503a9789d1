import { Redis, type RedisOptions } from 'ioredis';
import { rootLogger } from '../log/index.ts';
import { SENTINEL_SCHEME, parseSentinelUrl, sentinelOptions } from './sentinel-url.ts';
import { reviveUnexpectedEnd } from './revive-client.ts';

/** Reconnect delays: quick at first (a restarted local Redis is back in ~100 ms), then at most every 2 s. */
export function reconnectDelayMs(attempt: number): number {
  return Math.min(50 * 2 ** Math.min(attempt, 10), 2000);
}

/**
 * Parses a Redis URL (redis://, rediss://, redis+socket:///path for unix sockets, or
 * redis-sentinel://h:p[,h:p…]/<master> for a Sentinel-managed master) into ioredis options.
 * BullMQ needs `maxRetriesPerRequest: null` on its connections. Every other connection (BullMQ's
 * blocking ones included) is a `duplicate()` of one made from these options, so it finds the
 * master through the sentinels too.
 */
export function redisOptions(url: string): RedisOptions {
  // Never give up reconnecting: the managed Redis is restarted, an external one may come back.
  const base: RedisOptions = { maxRetriesPerRequest: null, enableReadyCheck: true, retryStrategy: reconnectDelayMs };
  if (url.startsWith('redis+socket://') || url.startsWith('unix://')) {
    const u = new URL(url);
    const db = u.searchParams.get('db');
    return { ...base, path: decodeURIComponent(u.pathname), ...(db ? { db: Number(db) } : {}) };
  }
  if (url.startsWith(SENTINEL_SCHEME)) return { ...base, ...sentinelOptions(parseSentinelUrl(url)) };
  const u = new URL(url);
  return {
    ...base,
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.pathname.length > 1 ? { db: Number(u.pathname.slice(1)) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/** How often the same client may log the same outage: a dead Redis would otherwise log on every retry. */
const ERROR_LOG_INTERVAL_MS = 10_000;

/**
 * Gives a client an 'error' listener (without one ioredis prints "[ioredis] Unhandled error event"
 * with a stack trace in plain text) that logs JSON: the first error of an outage, then at most
 * every 10 s, and one line when the connection is back.
 */
export function logClientErrors(client: Redis, name: string): Redis {
  const log = rootLogger().child({ component: 'redis', client: name });
  let lastLogged = 0;
  let failing = false;
  client.on('error', (err: Error) => {
    const now = Date.now();
    if (!failing || now - lastLogged >= ERROR_LOG_INTERVAL_MS) {
      log.warn({ err: { message: err.message, code: (err as NodeJS.ErrnoException).code } }, 'redis connection error');
      lastLogged = now;
    }
    failing = true;
  });
  client.on('ready', () => {
    if (failing) log.info('redis connection restored');
    failing = false;
  });
  return client;
}

/** An ioredis client for `url` that reconnects with backoff and logs its errors as JSON. */
export function createRedis(url: string, overrides: RedisOptions = {}, name = 'main'): Redis {
  const client = logClientErrors(new Redis({ ...redisOptions(url), ...overrides }), name);
  if (!url.startsWith(SENTINEL_SCHEME)) return client;
  return reviveUnexpectedEnd(client, () => rootLogger().child({ component: 'redis', client: name }).warn('redis client ended by a failed master lookup; connecting again'));
}

/**
 * QUIT, bounded: with Redis gone a QUIT would wait in the offline queue forever, so after
 * `timeoutMs` the socket is simply dropped.
 */
export async function closeRedisClient(client: Redis, timeoutMs = 1000): Promise<void> {
  if (client.status === 'end') return;
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs); });
  await Promise.race([client.quit().then(() => undefined, () => undefined), timedOut]);
  clearTimeout(timer);
  if ((client.status as string) !== 'end') client.disconnect();
}
