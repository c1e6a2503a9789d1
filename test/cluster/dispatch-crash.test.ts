import { afterAll, describe, expect, it } from 'vitest';
import { canRunContainers } from '../helpers/host.ts';
import { api, clusterRedis, clusterRegistry, startNode, waitForFinal, type Cleanup } from './dispatch-helpers.ts';

const cleanups: Cleanup[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

const INVOCATIONS = 30;

describe.runIf(canRunContainers)('a node SIGKILLed under async load', () => {
  it('loses nothing: its jobs run again on the other node within 15 s, as redeliveries, not attempts', async () => {
    const { url: redisUrl } = await clusterRedis(cleanups);
    // The default lock (10 s, stalled checks every 5 s): the 15 s promise is the one tested.
    const env = { HEARTH_REGISTRY: await clusterRegistry(cleanups) };
    const victim = await startNode(cleanups, redisUrl, 'victim', env);
    const source = 'export default async (e) => { await new Promise((r) => setTimeout(r, 1000)); return { i: e.i }; }';
    expect((await api(victim.url, 'POST', '/v1/functions', { name: 'steady', source, config: { maxContainers: 2 } })).version).toBe(1);
    const survivor = await startNode(cleanups, redisUrl, 'survivor', env);

    const ids: string[] = [];
    for (let i = 0; i < INVOCATIONS; i++) ids.push((await api(survivor.url, 'POST', '/v1/functions/steady/invocations', { i })).id);
    // Kill the victim while it runs some of them.
    let runningThere: string[] = [];
    const deadline = Date.now() + 30_000;
    while (runningThere.length === 0) {
      if (Date.now() > deadline) throw new Error('the victim never ran an invocation');
      const records = await Promise.all(ids.map((id) => api(survivor.url, 'GET', `/v1/invocations/${id}`)));
      runningThere = records.filter((r) => r.status === 'running' && r.node === 'victim').map((r) => r.id);
    }
    await victim.kill();
    const killedAt = Date.now();

    const records = await waitForFinal(survivor.url, ids, 60_000);
    expect(records.filter((r) => r.status !== 'succeeded')).toEqual([]);
    expect(records.every((r) => r.attempts <= r.maxAttempts)).toBe(true);
    const redelivered = records.filter((r) => (r.redeliveries ?? 0) > 0);
    expect(redelivered.length).toBeGreaterThan(0);
    for (const r of redelivered) expect(r).toMatchObject({ attempts: 1, maxAttempts: 1, node: 'survivor' });
    const rerunAfterMs = Math.max(...redelivered.map((r) => Date.parse(r.startedAt) - killedAt));
    console.log(`dispatch crash: ${runningThere.length} running on the killed node, ${redelivered.length} redelivered, rerun ${rerunAfterMs} ms after the kill`);
    expect(rerunAfterMs).toBeLessThanOrEqual(15_000);
  }, 180_000);
});
