import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isAlive, redisServersFor } from '../../src/redis/index.ts';
import { ECHO, call, hostLeftovers, killServer, nonJsonLines, prepareDataDir, removeDataDir, socketPathOf, startServer, waitUntil, type ServerProcess } from './helpers.ts';

let server: ServerProcess | undefined;
let dataDir: string | undefined;

afterEach(async () => {
  await killServer(server);
  server = undefined;
  if (dataDir) {
    // A failed test may leave the server's redis-server behind; never let it outlive the test.
    for (const pid of await redisServersFor(socketPathOf(dataDir))) process.kill(pid, 'SIGKILL');
    await removeDataDir(dataDir);
  }
  dataDir = undefined;
});

async function deployEcho(url: string, name = 'echo'): Promise<void> {
  const res = await call(`${url}/v1/functions`, 'POST', { name, source: ECHO }, 30_000);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}

describe('the managed redis-server has one owner', () => {
  it('SIGKILLed, it is restarted: requests meanwhile answer within 2 s, then invocations work again and nothing accepted is lost', async () => {
    dataDir = await prepareDataDir();
    server = await startServer(dataDir);
    await deployEcho(server.url);
    expect((await call(`${server.url}/v1/functions/echo/invoke`, 'POST', { n: 1 })).status).toBe(200);
    const accepted = await call<{ id: string }>(`${server.url}/v1/functions/echo/invocations`, 'POST', { n: 2 });
    expect(accepted.status).toBe(202);

    // Async load across the crash: 4 callers submitting back to back until 1.5 s after the kill.
    const acceptedIds: string[] = [];
    const refused: number[] = [];
    let loadUntil = Number.POSITIVE_INFINITY;
    const load = Promise.all([0, 1, 2, 3].map(async (caller) => {
      for (let n = 0; Date.now() < loadUntil; n++) {
        const r = await call<{ id: string }>(`${server!.url}/v1/functions/echo/invocations`, 'POST', { caller, n }, 5000);
        expect(r.ms).toBeLessThan(2000);
        if (r.status === 202) acceptedIds.push(r.body.id);
        else refused.push(r.status);
      }
    }));
    await new Promise((r) => setTimeout(r, 300));

    const [before] = await redisServersFor(socketPathOf(dataDir));
    expect(before).toBeDefined();
    process.kill(before!, 'SIGKILL');
    const killedAt = Date.now();
    loadUntil = killedAt + 1500;
    // Whatever arrives while it is gone or coming back: an answer (200 or 503), never a hang.
    const during = await Promise.all([
      call(`${server.url}/v1/functions/echo/invoke`, 'POST', { n: 3 }),
      call(`${server.url}/v1/functions/echo/invocations`, 'POST', { n: 4 }),
      call(`${server.url}/v1/functions`),
      call(`${server.url}/v1/invocations/${accepted.body.id}`),
      call(`${server.url}/metrics`),
      call(`${server.url}/healthz`),
    ]);
    for (const r of during) {
      expect(r.ms).toBeLessThan(2000);
      expect([200, 202, 503]).toContain(r.status);
      if (r.status === 503) expect(r.headers.get('retry-after')).toBeTruthy();
    }

    await load;
    expect([...new Set(refused)].filter((st) => st !== 503)).toEqual([]);
    const readyAfterMs = await waitUntil(async () => (await call(`${server!.url}/readyz`, 'GET', undefined, 1000)).status === 200, 15_000);
    const servers = await redisServersFor(socketPathOf(dataDir));
    expect(servers).toHaveLength(1);
    expect(servers[0]).not.toBe(before);
    const again = await call(`${server.url}/v1/functions/echo/invoke`, 'POST', { n: 5 });
    expect(again.status).toBe(200);
    const recovered = Date.now() - killedAt;
    // The async invocation accepted before the crash was on disk (appendfsync always): it completes.
    await waitUntil(async () => (await call(`${server!.url}/v1/invocations/${accepted.body.id}`)).body?.status === 'succeeded', 20_000);
    // Every invocation accepted with a 202, before, during or after the crash, ends succeeded.
    const final = async () => Promise.all(acceptedIds.map(async (id) => (await call(`${server!.url}/v1/invocations/${id}`)).body?.status));
    await waitUntil(async () => (await final()).every((st) => st === 'succeeded'), 30_000, 250);
    expect(server.output()).toMatch(/managed redis-server exited; restarting it/);
    expect(nonJsonLines(server.output())).toEqual([]);
    console.log(`[chaos] managed Redis SIGKILL under async load: ${acceptedIds.length} accepted, all succeeded; ${refused.length} refused with 503`);
    console.log(`[chaos] managed Redis SIGKILL: answers during the outage in ≤ ${Math.round(Math.max(...during.map((r) => r.ms)))} ms (statuses ${during.map((r) => r.status).join(',')}); ready again after ${readyAfterMs} ms; invoking again after ${recovered} ms`);
  });

  it('dies with its Hearth on SIGKILL, and the restarted Hearth runs exactly one redis-server on the same AOF', async () => {
    dataDir = await prepareDataDir();
    // A short job lock: a job the dead server had taken runs again soon after the restart.
    const env = { HEARTH_JOB_LOCK_MS: '3000' };
    server = await startServer(dataDir, { env });
    await deployEcho(server.url);
    const done = await call<{ id: string }>(`${server.url}/v1/functions/echo/invocations`, 'POST', { n: 1 });
    await waitUntil(async () => (await call(`${server!.url}/v1/invocations/${done.body.id}`)).body?.status === 'succeeded', 20_000);
    const accepted = await call<{ id: string }>(`${server.url}/v1/functions/echo/invocations`, 'POST', { n: 2 });
    expect(accepted.status).toBe(202);
    const [redisPid] = await redisServersFor(socketPathOf(dataDir));
    server.child.kill('SIGKILL');
    await server.exited;
    const killedAt = Date.now();
    await waitUntil(async () => !(await isAlive(redisPid!)), 5000, 10);
    const goneMs = Date.now() - killedAt;
    expect(await redisServersFor(socketPathOf(dataDir))).toEqual([]);

    server = await startServer(dataDir, { env });
    const servers = await redisServersFor(socketPathOf(dataDir));
    expect(servers).toHaveLength(1);
    // Deployed functions, finished records and accepted work all survived the crash.
    expect((await call(`${server.url}/v1/invocations/${done.body.id}`)).body?.status).toBe('succeeded');
    const redeliveredMs = await waitUntil(async () => (await call(`${server!.url}/v1/invocations/${accepted.body.id}`)).body?.status === 'succeeded', 30_000, 200);
    expect((await call(`${server.url}/v1/functions/echo/invoke`, 'POST', { n: 3 })).status).toBe(200);
    console.log(`[chaos] Hearth SIGKILL: its redis-server gone ${goneMs} ms later; after restart ${servers.length} redis-server; the accepted job succeeded ${redeliveredMs} ms after the restart`);
  }, 90_000);

  it('a leftover redis-server on the data dir (its owner crashed) is stopped, never run beside a second one', async () => {
    dataDir = await prepareDataDir();
    const dir = path.join(dataDir, 'redis');
    await mkdir(dir, { recursive: true });
    // No parent-death signal and its own group: what an old Hearth, or one killed with its
    // setpriv missing, would leave behind.
    const leftover = spawn('redis-server', ['--port', '0', '--unixsocket', socketPathOf(dataDir), '--dir', dir, '--appendonly', 'yes', '--save', ''], { stdio: 'ignore', detached: true });
    await waitUntil(async () => (await redisServersFor(socketPathOf(dataDir!))).includes(leftover.pid!), 5000);
    server = await startServer(dataDir);
    expect(await isAlive(leftover.pid!)).toBe(false);
    const servers = await redisServersFor(socketPathOf(dataDir));
    expect(servers).toHaveLength(1);
    expect(server.output()).toMatch(/stopping a leftover redis-server/);
    await killServer(server);
    server = undefined;
    await waitUntil(async () => (await hostLeftovers(dataDir!)).length === 0, 5000);
  });

  it('a second Hearth on a data dir in use is refused, and the first keeps its one redis-server', async () => {
    dataDir = await prepareDataDir();
    server = await startServer(dataDir);
    const before = await redisServersFor(socketPathOf(dataDir));
    const second = await startServer(dataDir).then(
      async (s) => { await killServer(s); return 'started'; },
      (err: Error) => err.message,
    );
    expect(second).toMatch(/in use by another Hearth/);
    expect(await redisServersFor(socketPathOf(dataDir))).toEqual(before);
    expect((await call(`${server.url}/readyz`)).status).toBe(200);
  });
});
