import { afterAll, describe, expect, it } from 'vitest';
import { canRunContainers } from '../helpers/host.ts';
import { api, clientList, clusterRedis, commandsSoFar, cpuMs, startNode, type Cleanup } from './dispatch-helpers.ts';

const cleanups: Cleanup[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

const FUNCTIONS = 300;
const IDLE_WINDOW_MS = 10_000;

describe.runIf(canRunContainers)('a node with 300 functions', () => {
  it('holds a small fixed number of Redis connections and costs next to nothing idle', async () => {
    const { url: redisUrl, client } = await clusterRedis(cleanups);

    // One real deploy; the other 299 functions are copies of its catalog entry (same image),
    // which the node serves like any other (a deploy each would only make the test slow).
    const seed = await startNode(cleanups, redisUrl, 'seed');
    expect((await api(seed.url, 'POST', '/v1/functions', { name: 'f-0', source: 'export default (e) => ({ echo: e })' })).version).toBe(1);
    await seed.stop();
    const record = JSON.parse((await client.hget('hearth:functions', 'f-0'))!);
    const copies = client.pipeline();
    for (let i = 1; i < FUNCTIONS; i++) {
      const name = `f-${i}`;
      copies.hset('hearth:functions', name, JSON.stringify({ ...record, name }));
      copies.hset(`hearth:fn:${name}:versions`, '1', JSON.stringify({ ...record, name }));
      copies.set(`hearth:fn:${name}:seq`, '1');
    }
    await copies.exec();
    expect(await client.hlen('hearth:functions')).toBe(FUNCTIONS);

    const ownId = String(await client.client('ID'));
    // On the seed's data dir: the image is there (no registry in this test).
    const node = await startNode(cleanups, redisUrl, 'n1', {}, seed.dataDir);
    // Let the start-up look at every queue settle.
    await new Promise((r) => setTimeout(r, 3_000));

    const nodeClients = (await clientList(client)).filter((line) => !line.startsWith(`id=${ownId} `));
    const commands0 = await commandsSoFar(client);
    const cpu0 = cpuMs(node.child.pid!);
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, IDLE_WINDOW_MS));
    const commands1 = await commandsSoFar(client);
    const cpu1 = cpuMs(node.child.pid!);
    const seconds = (Date.now() - t0) / 1000;
    // The two INFO calls of this test are not the node's. Redis counts the commands a script
    // runs as well as the script call, so this is an upper bound of what the node sends.
    const commandsPerSecond = (commands1 - commands0 - 2) / seconds;
    const cpuPercent = ((cpu1 - cpu0) / (seconds * 1000)) * 100;
    console.log(`dispatch idle: ${FUNCTIONS} functions, ${nodeClients.length} Redis connections, ${commandsPerSecond.toFixed(2)} commands/s, CPU ${cpuPercent.toFixed(2)} %`);

    expect(nodeClients.length).toBeLessThanOrEqual(16);
    expect(commandsPerSecond).toBeLessThan(20);
    // The aim is under 1 %: measured 0.4–1.6 % here, the upper figures with the machine
    // busy with other work; the bound catches a per-function cost (which scaled to ~5 % before).
    expect(cpuPercent).toBeLessThan(2);

    // Every one of them is served: the last copy runs, and the connection count does not move.
    const res = await fetch(`${node.url}/v1/functions/f-${FUNCTIONS - 1}/invoke`, { method: 'POST', body: '{"n":1}', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ echo: { n: 1 } });
    const after = (await clientList(client)).filter((line) => !line.startsWith(`id=${ownId} `));
    expect(after.length).toBe(nodeClients.length);
  }, 180_000);
});
