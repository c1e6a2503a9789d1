import { afterAll, describe, expect, it } from 'vitest';
import { canRunContainers } from '../helpers/host.ts';
import { api, clusterRedis, clusterRegistry, startNode, waitForFinal, type Cleanup } from './dispatch-helpers.ts';

const cleanups: Cleanup[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

const INVOCATIONS = 200;

describe.runIf(canRunContainers)('two nodes on one Redis', () => {
  it('run 200 async invocations between them, every one succeeded, each within its function limit', async () => {
    const { url: redisUrl } = await clusterRedis(cleanups);
    const env = { HEARTH_REGISTRY: await clusterRegistry(cleanups) };
    const a = await startNode(cleanups, redisUrl, 'node-a', env);
    const source = 'export default async (e) => { await new Promise((r) => setTimeout(r, 40)); return { i: e.i, pid: process.pid }; }';
    expect((await api(a.url, 'POST', '/v1/functions', { name: 'work', source, config: { maxContainers: 3 } })).version).toBe(1);
    // Deployed before the second node starts: it serves what the catalog holds at start.
    const b = await startNode(cleanups, redisUrl, 'node-b', env);
    const ids: string[] = [];
    const started = Date.now();
    for (let i = 0; i < INVOCATIONS; i++) {
      const via = i % 2 === 0 ? a : b;
      const accepted = await api(via.url, 'POST', '/v1/functions/work/invocations', { i });
      ids.push(accepted.id);
    }
    const records = await waitForFinal(a.url, ids, 90_000);
    const elapsed = Date.now() - started;
    expect(records.filter((r) => r.status !== 'succeeded')).toEqual([]);
    expect(records.every((r) => r.attempts === 1)).toBe(true);
    const byNode = new Map<string, number>();
    for (const r of records) byNode.set(r.node, (byNode.get(r.node) ?? 0) + 1);
    console.log(`dispatch spread: ${JSON.stringify(Object.fromEntries(byNode))} in ${elapsed} ms`);
    expect([...byNode.keys()].sort()).toEqual(['node-a', 'node-b']);
    expect(Math.min(...byNode.values())).toBeGreaterThanOrEqual(INVOCATIONS / 5);
    // maxContainers × concurrency is a limit per node: never more than 3 of them at once on one node.
    for (const node of byNode.keys()) {
      const edges = records
        .filter((r) => r.node === node)
        .flatMap((r) => [{ t: Date.parse(r.startedAt), d: 1 }, { t: Date.parse(r.finishedAt), d: -1 }])
        .sort((x, y) => x.t - y.t || x.d - y.d);
      let running = 0;
      let most = 0;
      for (const e of edges) most = Math.max(most, (running += e.d));
      expect(most).toBeLessThanOrEqual(3);
      expect(most).toBeGreaterThanOrEqual(2);
    }
  }, 180_000);
});
