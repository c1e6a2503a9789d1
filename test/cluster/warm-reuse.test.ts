import { afterAll, describe, expect, it } from 'vitest';
import { canRunContainers } from '../helpers/host.ts';
import { api, clusterRedis, clusterRegistry, startNode, type Cleanup } from './dispatch-helpers.ts';

const cleanups: Cleanup[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

const CALLS = 100;

describe.runIf(canRunContainers)('three nodes on one Redis', () => {
  it('100 sequential sync calls spread over the nodes keep using the warm container wherever it lives', async () => {
    const { url: redisUrl } = await clusterRedis(cleanups);
    // The delay a cold node leaves a job to the warm one must exceed the warm node's own pickup
    // time (pub/sub hop + fetch): 2-5 ms on an idle machine, 10-40 ms on a 2-core one running
    // several suites at once, where the default 25 ms would measure the load, not the placement.
    const env = { HEARTH_REGISTRY: await clusterRegistry(cleanups), HEARTH_COLD_START_DELAY_MS: '100' };
    const nodes = [
      await startNode(cleanups, redisUrl, 'node-a', env),
      await startNode(cleanups, redisUrl, 'node-b', env),
      await startNode(cleanups, redisUrl, 'node-c', env),
    ];
    const source = 'export default async (e) => ({ i: e.i, pid: process.pid });';
    expect((await api(nodes[0]!.url, 'POST', '/v1/functions', { name: 'steady', source })).version).toBe(1);

    const cold: number[] = [];
    const ids: string[] = [];
    const started = Date.now();
    for (let i = 0; i < CALLS; i++) {
      const via = nodes[i % nodes.length]!;
      const res = await fetch(`${via.url}/v1/functions/steady/invoke`, {
        method: 'POST', body: JSON.stringify({ i }), headers: { 'content-type': 'application/json' },
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { i: number }).i).toBe(i);
      if (res.headers.get('x-hearth-cold-start') === 'true') cold.push(i);
      ids.push(res.headers.get('x-hearth-invocation-id')!);
    }
    const elapsed = Date.now() - started;
    // Which node ran each call and how long it waited, from the records (written just after the reply).
    const byNode = new Map<string, number>();
    const trace: string[] = [];
    for (const id of ids) {
      let record = await api(nodes[0]!.url, 'GET', `/v1/invocations/${id}`);
      for (let tries = 0; record?.status !== 'succeeded' && tries < 20; tries++) {
        await new Promise((r) => setTimeout(r, 100));
        record = await api(nodes[0]!.url, 'GET', `/v1/invocations/${id}`);
      }
      trace.push(`${record.node.slice(-1)}${Date.parse(record.startedAt) - Date.parse(record.queuedAt)}`);
      byNode.set(record.node, (byNode.get(record.node) ?? 0) + 1);
    }
    console.log(`warm reuse: ${cold.length} cold start(s) at calls ${JSON.stringify(cold)}; ran on ${JSON.stringify(Object.fromEntries(byNode))}; ${CALLS} calls in ${elapsed} ms`);
    console.log(`warm reuse, node and queue wait (ms) per call: ${trace.join(' ')}`);
    // A single node would have one cold start (the first call); a cluster may cost one more.
    expect(cold[0]).toBe(0);
    expect(cold.length).toBeLessThanOrEqual(2);
  }, 180_000);
});
