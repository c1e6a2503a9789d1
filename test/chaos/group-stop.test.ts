import { afterEach, describe, expect, it } from 'vitest';
import { redisServersFor } from '../../src/redis/index.ts';
import { ECHO, call, hostLeftovers, killServer, nonJsonLines, prepareDataDir, removeDataDir, socketPathOf, startServer, type ServerProcess } from './helpers.ts';

let server: ServerProcess | undefined;
let dataDir: string | undefined;

afterEach(async () => {
  await killServer(server);
  server = undefined;
  if (dataDir) {
    for (const pid of await redisServersFor(socketPathOf(dataDir))) process.kill(pid, 'SIGKILL');
    await removeDataDir(dataDir);
  }
  dataDir = undefined;
});

describe('a stop signal to the whole process group', () => {
  it('with warm containers: Hearth drains, stops Redis last and leaves no container, mount, cgroup or redis-server', async () => {
    dataDir = await prepareDataDir();
    // Its own group stands in for a terminal's (Ctrl-C) or a systemd unit's (KillMode=control-group).
    server = await startServer(dataDir, { ownGroup: true });
    const names = ['warm-a', 'warm-b', 'warm-c', 'warm-d'];
    for (const name of names) {
      expect((await call(`${server.url}/v1/functions`, 'POST', { name, source: ECHO }, 30_000)).status).toBe(201);
    }
    await Promise.all(names.map(async (name) => expect((await call(`${server!.url}/v1/functions/${name}/invoke`, 'POST', {}, 30_000)).status).toBe(200)));
    const pool = await call<{ containers: unknown[] }>(`${server.url}/v1/pool`);
    expect(pool.body.containers.length).toBeGreaterThanOrEqual(names.length);
    expect(await redisServersFor(socketPathOf(dataDir))).toHaveLength(1);
    // The leftover check sees a running Hearth's containers and Redis (it is not blind).
    const running = await hostLeftovers(dataDir);
    expect(running.filter((l) => l.startsWith('runc container')).length).toBeGreaterThanOrEqual(names.length);
    expect(running.filter((l) => l.startsWith('redis-server'))).toHaveLength(1);

    const started = Date.now();
    process.kill(-server.child.pid!, 'SIGTERM');
    const exit = await server.exited;
    const stopMs = Date.now() - started;
    const left = await hostLeftovers(dataDir);
    expect(exit.code).toBe(0);
    expect(left).toEqual([]);
    expect(stopMs).toBeLessThan(10_000);
    expect(nonJsonLines(server.output())).toEqual([]);
    console.log(`[chaos] group SIGTERM with ${pool.body.containers.length} warm containers: stopped in ${stopMs} ms (exit ${exit.code}), left: ${left.length === 0 ? 'nothing' : left.join(', ')}`);
  }, 120_000);
});
