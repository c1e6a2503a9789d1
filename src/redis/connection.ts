import { Redis, type RedisOptions } from 'ioredis';

/**
 * Parses a Redis URL (redis://, rediss://, or redis+socket:///path for unix sockets)
 * into ioredis options. BullMQ needs `maxRetriesPerRequest: null` on its connections.
 */
export function redisOptions(url: string): RedisOptions {
  const base: RedisOptions = { maxRetriesPerRequest: null, enableReadyCheck: true };
  if (url.startsWith('redis+socket://') || url.startsWith('unix://')) {
    const u = new URL(url);
    const db = u.searchParams.get('db');
    return { ...base, path: decodeURIComponent(u.pathname), ...(db ? { db: Number(db) } : {}) };
  }
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

export function createRedis(url: string, overrides: RedisOptions = {}): Redis {
  return new Redis({ ...redisOptions(url), ...overrides });
}
