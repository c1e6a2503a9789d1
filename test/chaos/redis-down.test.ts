import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ECHO, call, killServer, nonJsonLines, prepareDataDir, removeDataDir, startServer, waitUntil, type ServerProcess } from './helpers.ts';

/**
 * An external Redis (REDIS_URL) the test stops and starts again, with AOF but fsync everysec,
 * so Hearth has something to warn about.
 */
class ExternalRedis {
  child: ChildProcess | undefined;
  constructor(readonly dir: string) {}
  get socket(): string {
    return path.join(this.dir, 'r.sock');
  }
  async start(): Promise<void> {
    this.child = spawn('redis-server', ['--port', '0', '--unixsocket', this.socket, '--dir', this.dir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', ''], { stdio: 'ignore' });
    await waitUntil(async () => {
      const probe = spawn('redis-cli', ['-s', this.socket, 'ping'], { stdio: 'ignore' });
      return (await new Promise<number | null>((r) => probe.once('exit', r))) === 0;
    }, 10_000);
  }
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }
}

let redis: ExternalRedis;
let server: ServerProcess | undefined;
let dataDir: string;

beforeAll(async () => {
  redis = new ExternalRedis(await mkdtemp(path.join(os.tmpdir(), 'hearth-x-')));
  await redis.start();
  dataDir = await prepareDataDir();
  server = await startServer(dataDir, { env: { REDIS_URL: `redis+socket://${redis.socket}` } });
});

afterAll(async () => {
  await killServer(server);
  await redis?.kill();
  await removeDataDir(dataDir);
  await removeDataDir(redis.dir);
});

describe('Redis (REDIS_URL) goes away and comes back', () => {
  it('warns at start that the server can lose accepted work (appendfsync everysec)', () => {
    expect(server!.output()).toMatch(/"level":"warn".*appendfsync=everysec/);
  });

  it('while it is down: sync, async and read calls answer 503 unavailable with Retry-After within 2 s; /healthz stays 200, /readyz 503', async () => {
    const url = server!.url;
    expect((await call(`${url}/v1/functions`, 'POST', { name: 'echo', source: ECHO }, 30_000)).status).toBe(201);
    expect((await call(`${url}/v1/functions/echo/invoke`, 'POST', { n: 1 })).status).toBe(200);
    const accepted = await call<{ id: string }>(`${url}/v1/functions/echo/invocations`, 'POST', { n: 2 });
    expect(accepted.status).toBe(202);
    await waitUntil(async () => (await call(`${url}/v1/invocations/${accepted.body.id}`)).body?.status === 'succeeded', 20_000);

    await redis.kill();
    // A request already in flight when Redis goes: a sync call to a slow-ish path still ends within the bound.
    const requests: [string, string, unknown?][] = [
      ['POST', '/v1/functions/echo/invoke', { n: 3 }],
      ['POST', '/v1/functions/echo/invocations', { n: 4 }],
      ['GET', '/v1/functions'],
      ['GET', '/v1/functions/echo'],
      ['GET', `/v1/invocations/${accepted.body.id}`],
      ['GET', '/v1/secrets'],
      ['POST', '/fn/echo/'],
    ];
    const answers = await Promise.all(requests.map(([method, p, body]) => call(`${url}${p}`, method, body, 5000)));
    for (const [i, r] of answers.entries()) {
      expect(r.status, `${requests[i]![0]} ${requests[i]![1]}`).toBe(503);
      expect(r.body.error.code).toBe('unavailable');
      expect(r.headers.get('retry-after')).toBeTruthy();
      expect(r.ms).toBeLessThan(2000);
    }
    const metrics = await call(`${url}/metrics`, 'GET', undefined, 5000);
    expect(metrics.status).toBe(200);
    expect(metrics.ms).toBeLessThan(2000);
    expect(String(metrics.body)).toMatch(/hearth_redis_up(\{[^}]*\})? 0/);
    expect((await call(`${url}/healthz`)).status).toBe(200);
    expect((await call(`${url}/readyz`)).status).toBe(503);
    console.log(`[chaos] REDIS_URL down: ${answers.length} API calls answered 503 in ≤ ${Math.round(Math.max(...answers.map((r) => r.ms)))} ms; /metrics in ${Math.round(metrics.ms)} ms`);

    // Back: Hearth reconnects on its own and works as before.
    const restarted = Date.now();
    await redis.start();
    const readyMs = await waitUntil(async () => (await call(`${url}/readyz`, 'GET', undefined, 1000)).status === 200, 15_000);
    expect((await call(`${url}/v1/functions/echo/invoke`, 'POST', { n: 5 })).status).toBe(200);
    const again = await call<{ id: string }>(`${url}/v1/functions/echo/invocations`, 'POST', { n: 6 });
    expect(again.status).toBe(202);
    await waitUntil(async () => (await call(`${url}/v1/invocations/${again.body.id}`)).body?.status === 'succeeded', 20_000);
    console.log(`[chaos] REDIS_URL back: ready ${readyMs} ms after redis-server restarted, sync and async work (${Date.now() - restarted} ms in all)`);
    expect(nonJsonLines(server!.output())).toEqual([]);
  }, 90_000);

  it('a hung Redis (SIGSTOP): calls in flight and new ones answer within 2 s; it resumes and work goes on', async () => {
    const url = server!.url;
    const slow = 'export default async (e) => { await new Promise((r) => setTimeout(r, 300)); return e; }';
    expect((await call(`${url}/v1/functions`, 'POST', { name: 'slow', source: slow }, 30_000)).status).toBe(201);
    expect((await call(`${url}/v1/functions/slow/invoke`, 'POST', { warm: true }, 30_000)).status).toBe(200);
    const inFlight = call(`${url}/v1/functions/slow/invoke`, 'POST', { n: 1 }, 5000);
    await new Promise((r) => setTimeout(r, 50));
    process.kill(redis.child!.pid!, 'SIGSTOP');
    try {
      await new Promise((r) => setTimeout(r, 100));
      const later = await Promise.all([
        call(`${url}/v1/functions/echo/invocations`, 'POST', { n: 2 }, 5000),
        call(`${url}/v1/invocations/nope`, 'GET', undefined, 5000),
        call(`${url}/v1/functions/echo/invoke`, 'POST', { n: 3 }, 5000),
      ]);
      const first = await inFlight;
      for (const r of [first, ...later]) {
        expect(r.ms).toBeLessThan(2000);
        // 200: answered before the hang mattered (a cached read, a reply already on its way).
        expect([200, 503]).toContain(r.status);
      }
      expect(later.filter((r) => r.status === 503).length).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 1200));
      const meanwhile = await call(`${url}/v1/functions/echo/invoke`, 'POST', { n: 4 }, 5000);
      expect([meanwhile.status, meanwhile.ms < 200]).toEqual([503, true]);
      expect((await call(`${url}/readyz`)).status).toBe(503);
      console.log(`[chaos] hung Redis: in-flight sync call answered ${first.status} in ${Math.round(first.ms)} ms; new calls ${later.map((r) => `${r.status}/${Math.round(r.ms)}ms`).join(' ')}; once noticed ${Math.round(meanwhile.ms)} ms`);
    } finally {
      process.kill(redis.child!.pid!, 'SIGCONT');
    }
    await waitUntil(async () => (await call(`${url}/readyz`, 'GET', undefined, 1000)).status === 200, 15_000);
    expect((await call(`${url}/v1/functions/slow/invoke`, 'POST', { n: 5 })).status).toBe(200);
    expect(nonJsonLines(server!.output())).toEqual([]);
  }, 60_000);
});
