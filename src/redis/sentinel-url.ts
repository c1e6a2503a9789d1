import type { RedisOptions } from 'ioredis';

/** Sentinel's own default port. */
const SENTINEL_PORT = 26379;

export const SENTINEL_SCHEME = 'redis-sentinel:';

/**
 * What a `redis-sentinel://` URL names: the sentinels to ask, the master group they watch, and the
 * credentials of the Redis servers themselves (sentinels usually run without a password; one that
 * has its own is given as `?sentinelPassword=`).
 */
export interface SentinelTarget {
  sentinels: { host: string; port: number }[];
  name: string;
  username?: string;
  password?: string;
  sentinelPassword?: string;
  db?: number;
}

function invalid(url: string, why: string): Error {
  // The password never reaches a log line or an error message.
  const shown = url.replace(/\/\/[^@/]*@/, '//***@');
  return new Error(`REDIS_URL ${shown} is not a valid redis-sentinel URL (${why}); expected redis-sentinel://[:password@]host:port[,host:port…]/<master-name>`);
}

function parseAddress(url: string, raw: string): { host: string; port: number } {
  // [v6]:port, [v6], host:port, host
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d+))?$/.exec(raw);
  if (!m) throw invalid(url, `bad sentinel address "${raw}"`);
  const port = m[3] === undefined ? SENTINEL_PORT : Number(m[3]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalid(url, `bad port in "${raw}"`);
  return { host: (m[1] ?? m[2])!, port };
}

/**
 * Parses `redis-sentinel://[[user]:password@]host[:port][,host[:port]…]/<master-name>[?db=N&sentinelPassword=…]`.
 * WHATWG URL cannot hold a comma-separated host list, so the parts are split by hand.
 */
export function parseSentinelUrl(url: string): SentinelTarget {
  if (!url.startsWith(`${SENTINEL_SCHEME}//`)) throw invalid(url, 'scheme');
  let rest = url.slice(SENTINEL_SCHEME.length + 2);
  let query = '';
  const q = rest.indexOf('?');
  if (q >= 0) {
    query = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  const slash = rest.indexOf('/');
  if (slash < 0) throw invalid(url, 'no master name');
  const authority = rest.slice(0, slash);
  const name = decodeURIComponent(rest.slice(slash + 1));
  if (name === '' || name.includes('/')) throw invalid(url, 'no master name');

  const at = authority.lastIndexOf('@');
  const userinfo = at >= 0 ? authority.slice(0, at) : undefined;
  const hosts = at >= 0 ? authority.slice(at + 1) : authority;
  if (hosts === '') throw invalid(url, 'no sentinel address');
  const sentinels = hosts.split(',').map((h) => parseAddress(url, h.trim()));

  const target: SentinelTarget = { sentinels, name };
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    const user = decodeURIComponent(colon >= 0 ? userinfo.slice(0, colon) : userinfo);
    const password = colon >= 0 ? decodeURIComponent(userinfo.slice(colon + 1)) : '';
    if (user !== '') target.username = user;
    if (password !== '') target.password = password;
  }
  const params = new URLSearchParams(query);
  const db = params.get('db');
  if (db !== null) {
    if (!/^\d+$/.test(db)) throw invalid(url, `bad db "${db}"`);
    target.db = Number(db);
  }
  const sentinelPassword = params.get('sentinelPassword');
  if (sentinelPassword) target.sentinelPassword = sentinelPassword;
  return target;
}

/**
 * Reconnect delays under Sentinel: a failover ends at a moment nobody announces to a client that is
 * between attempts, and each attempt only asks a sentinel where the master is, so retry at least
 * every 500 ms (the plain backoff's 2 s would add up to 2 s to every failover).
 */
export function sentinelReconnectDelayMs(attempt: number): number {
  return Math.min(50 * 2 ** Math.min(attempt, 10), 500);
}

/**
 * ioredis options for a Sentinel-managed master. The client asks the sentinels for the master,
 * checks the server's role after connecting, and asks again after any disconnect, so a failover
 * looks like a reconnect.
 */
export function sentinelOptions(target: SentinelTarget): RedisOptions {
  return {
    sentinels: target.sentinels,
    name: target.name,
    role: 'master',
    retryStrategy: sentinelReconnectDelayMs,
    // Sentinels announce a switch (+switch-master): a client still connected to a demoted primary
    // (partitioned, or switched over: it keeps taking writes until Sentinel reconfigures it, up
    // to 10 s later) moves at once. Its disconnect can end a client that is mid-reconnect for
    // good: createRedis revives those (revive-client.ts).
    failoverDetector: true,
    // A demoted master that kept our socket answers writes with READONLY: reconnect (through the
    // sentinels, to the new master) and resend the command.
    reconnectOnError: (err: Error) => (err.message.startsWith('READONLY') ? 2 : false),
    ...(target.username ? { username: target.username } : {}),
    ...(target.password ? { password: target.password } : {}),
    ...(target.sentinelPassword ? { sentinelPassword: target.sentinelPassword } : {}),
    ...(target.db !== undefined ? { db: target.db } : {}),
  };
}
