import { describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { managedRedisArgs, persistenceWarnings, reconnectDelayMs, restartDelayMs } from '../../src/redis/index.ts';
import { servesSocket } from '../../src/redis/process-table.ts';
import { Readiness } from '../../src/health/index.ts';
import { failFastWithoutRedis, type RedisGate } from '../../src/gateway/middleware/redis-guard.ts';
import { handleError } from '../../src/gateway/middleware/error-handler.ts';
import { healthRoutes } from '../../src/gateway/routes/health.ts';
import { metricsRoutes } from '../../src/gateway/routes/metrics.ts';
import { loadSettings } from '../../src/config/index.ts';
import { createApp, type GatewayServices } from '../../src/gateway/index.ts';

describe('persistence warnings for an external Redis', () => {
  it('says nothing for appendonly + fsync always + noeviction', () => {
    expect(persistenceWarnings({ appendonly: 'yes', appendfsync: 'always', 'maxmemory-policy': 'noeviction' })).toEqual([]);
  });
  it('warns that everysec can lose about a second, and that no AOF loses everything since the last snapshot', () => {
    expect(persistenceWarnings({ appendonly: 'yes', appendfsync: 'everysec' })[0]).toMatch(/appendfsync=everysec.*~1 s/);
    expect(persistenceWarnings({ appendonly: 'no', save: '3600 1' })[0]).toMatch(/appendonly=no.*lost.*3600 1/);
  });
  it('warns about an evicting policy', () => {
    expect(persistenceWarnings({ appendonly: 'yes', appendfsync: 'always', 'maxmemory-policy': 'allkeys-lru' })).toHaveLength(1);
  });
});

describe('the managed redis-server', () => {
  it('is durable by default and bounded', () => {
    const args = managedRedisArgs('/d/redis', '/d/redis/redis.sock', { fsync: 'always', maxmemory: '256mb' });
    const opt = (name: string) => args[args.indexOf(name) + 1];
    expect([opt('--appendonly'), opt('--appendfsync'), opt('--maxmemory'), opt('--maxmemory-policy')]).toEqual(['yes', 'always', '256mb', 'noeviction']);
  });
  it('is recognised in the process table before and after it renames itself', () => {
    const sock = '/d/redis/redis.sock';
    expect(servesSocket(['redis-server', '--port', '0', '--unixsocket', sock], sock)).toBe(true);
    expect(servesSocket(['redis-server unixsocket:/d/redis/redis.sock'], sock)).toBe(true);
    expect(servesSocket(['redis-server unixsocket:/d/redis/redis.sock2'], sock)).toBe(false);
    expect(servesSocket(['/usr/bin/setpriv', '--pdeathsig', 'KILL', '--', 'redis-server', '--unixsocket', '/other.sock'], sock)).toBe(false);
    expect(servesSocket(['vim', '--unixsocket', sock], sock)).toBe(false);
  });
  it('is restarted with a growing, capped delay; clients reconnect the same way', () => {
    expect([0, 1, 2, 10].map(restartDelayMs)).toEqual([100, 200, 400, 5000]);
    expect(reconnectDelayMs(0)).toBe(50);
    expect(reconnectDelayMs(100)).toBe(2000);
  });
  it('settings: fsync always and 256mb unless told otherwise; bad values are refused', () => {
    const s = loadSettings({}, '/tmp');
    expect([s.redisFsync, s.redisMaxmemory]).toEqual(['always', '256mb']);
    expect(loadSettings({ HEARTH_REDIS_FSYNC: 'everysec', HEARTH_REDIS_MAXMEMORY: '1GB' }, '/tmp')).toMatchObject({ redisFsync: 'everysec', redisMaxmemory: '1gb' });
    expect(() => loadSettings({ HEARTH_REDIS_FSYNC: 'no' }, '/tmp')).toThrow(/HEARTH_REDIS_FSYNC/);
    expect(() => loadSettings({ HEARTH_REDIS_MAXMEMORY: 'lots' }, '/tmp')).toThrow(/HEARTH_REDIS_MAXMEMORY/);
  });
});

/** A gate the test flips by hand. */
function fakeGate(initiallyUp: boolean) {
  const listeners = new Set<(up: boolean) => void>();
  const gate = {
    isUp: initiallyUp,
    set(up: boolean) { gate.isUp = up; gate.unreachableSince = up ? undefined : Date.now(); gate.emit(up); },
    emit(up: boolean) { for (const l of listeners) l(up); },
    unreachableSince: undefined as number | undefined,
    onChange(l: (up: boolean) => void) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
  return gate satisfies RedisGate;
}

function guardedApp(gate: RedisGate, handler: () => Promise<Response>) {
  const app = new Hono();
  app.onError(handleError);
  app.use('/v1/*', failFastWithoutRedis({ redis: gate, graceMs: 100 }));
  app.get('/v1/x', handler);
  return app;
}

describe('fail fast without Redis', () => {
  it('answers 503 unavailable with Retry-After at once while Redis is down', async () => {
    const app = guardedApp(fakeGate(false), async () => new Response('never'));
    const res = await app.request('/v1/x');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect((await res.json()).error.code).toBe('unavailable');
  });
  it('lets requests through while Redis is up', async () => {
    const app = guardedApp(fakeGate(true), async () => new Response('ok'));
    expect(await (await app.request('/v1/x')).text()).toBe('ok');
  });
  it('ends a request in flight when Redis goes away for longer than the grace time', async () => {
    const gate = fakeGate(true);
    const app = guardedApp(gate, () => new Promise<Response>(() => undefined));
    const started = Date.now();
    const pending = app.request('/v1/x');
    setTimeout(() => gate.set(false), 20);
    const res = await pending;
    expect(res.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(1000);
  });
  it('ends every request in flight with one outage, while a request that finished keeps its answer', async () => {
    const gate = fakeGate(true);
    let calls = 0;
    const app = guardedApp(gate, () => (++calls === 1 ? Promise.resolve(new Response('quick')) : new Promise<Response>(() => undefined)));
    expect(await (await app.request('/v1/x')).text()).toBe('quick');
    const pending = [app.request('/v1/x'), app.request('/v1/x'), app.request('/v1/x')];
    await new Promise((r) => setTimeout(r, 10));
    gate.set(false);
    expect((await app.request('/v1/x')).status).toBe(503);
    const statuses = await Promise.all(pending.map(async (p) => (await p).status));
    expect(statuses).toEqual([503, 503, 503]);
  });
  it('counts the grace time from when Redis became unreachable, not from when that was noticed', async () => {
    const gate = fakeGate(true);
    const app = guardedApp(gate, () => new Promise<Response>(() => undefined));
    const pending = app.request('/v1/x');
    await new Promise((r) => setTimeout(r, 10));
    const noticed = Date.now();
    // A hung server: noticed when its probe timed out, 90 ms after it stopped answering.
    gate.isUp = false;
    gate.unreachableSince = noticed - 90;
    gate.emit(false);
    expect((await pending).status).toBe(503);
    expect(Date.now() - noticed).toBeLessThan(60);
  });
  it('rides out a blip shorter than the grace time', async () => {
    const gate = fakeGate(true);
    const app = guardedApp(gate, () => new Promise<Response>((r) => setTimeout(() => r(new Response('late')), 250)));
    const pending = app.request('/v1/x');
    setTimeout(() => gate.set(false), 20);
    setTimeout(() => gate.set(true), 60);
    expect((await pending).status).toBe(200);
  });
});

describe('readiness', () => {
  it('is not ready while starting, stopping, with Redis down or the managed server restarting', async () => {
    let redisUp = true;
    let managed = 'running';
    const readiness = new Readiness(() => ({ isUp: redisUp }), () => ({ state: managed }));
    const app = healthRoutes(readiness);
    expect((await app.request('/readyz')).status).toBe(503);
    readiness.phase = 'serving';
    expect((await app.request('/readyz')).status).toBe(200);
    managed = 'restarting';
    const res = await app.request('/readyz');
    expect([res.status, (await res.json()).error.message]).toEqual([503, 'not ready: the managed redis-server is restarting']);
    managed = 'running';
    redisUp = false;
    expect((await app.request('/readyz')).status).toBe(503);
    redisUp = true;
    readiness.phase = 'stopping';
    expect((await app.request('/readyz')).status).toBe(503);
    expect((await app.request('/healthz')).status).toBe(200);
  });
});

describe('/metrics auth', () => {
  const app = () => {
    const a = new Hono();
    a.onError(handleError);
    a.route('/', metricsRoutes({ tokens: ['api-key', 'scrape-token', undefined] }));
    return a;
  };
  it('needs the API key or the metrics token when either is set', async () => {
    expect((await app().request('/metrics')).status).toBe(401);
    expect((await app().request('/metrics', { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    expect((await app().request('/metrics', { headers: { authorization: 'Bearer api-key' } })).status).toBe(200);
    expect((await app().request('/metrics', { headers: { authorization: 'Bearer scrape-token' } })).status).toBe(200);
  });
  it('stays open without any token configured', async () => {
    const a = new Hono().route('/', metricsRoutes({ tokens: [undefined] }));
    expect((await a.request('/metrics')).status).toBe(200);
  });
});

describe('what the API key protects, as the gateway wires it', () => {
  // Only routes that need no services are called, so none are given.
  const app = createApp({ apiKey: 'api-key', metricsToken: 'scrape-token', logger: undefined } as unknown as GatewayServices);
  it('/metrics takes the API key or the metrics token, nothing else', async () => {
    expect((await app.request('/metrics')).status).toBe(401);
    expect((await app.request('/metrics', { headers: { authorization: 'Bearer scrape-token' } })).status).toBe(200);
    expect((await app.request('/metrics', { headers: { authorization: 'Bearer api-key' } })).status).toBe(200);
  });
  it('the metrics token opens nothing under /v1', async () => {
    expect((await app.request('/v1/pool', { headers: { authorization: 'Bearer scrape-token' } })).status).toBe(401);
  });
  it('/docs, /openapi.json, /healthz and /readyz stay open', async () => {
    for (const p of ['/docs', '/openapi.json', '/healthz', '/readyz']) expect((await app.request(p)).status, p).toBe(200);
  });
});
