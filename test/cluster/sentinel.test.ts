import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canRunContainers } from '../helpers/host.ts';
import { startNode, waitForFinal, type Cleanup } from './dispatch-helpers.ts';
import { SentinelTopology, canRunSentinel } from './sentinel-topology.ts';

interface Answer {
  status: number;
  body: any; // any: bodies are checked field by field
  ms: number;
}

/** One API call with a client-side bound, so a call the failover swallows cannot hang the test. */
async function call(url: string, method: string, p: string, body?: unknown, timeoutMs = 8000): Promise<Answer> {
  const started = performance.now();
  try {
    const res = await fetch(url + p, {
      method,
      signal: AbortSignal.timeout(timeoutMs),
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, ms: performance.now() - started };
  } catch (err) {
    // 0: no answer at all (timed out on our side, connection refused).
    return { status: 0, body: { error: { code: (err as Error).name } }, ms: performance.now() - started };
  }
}

const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const cleanups: Cleanup[] = [];
let topology: SentinelTopology;

beforeAll(async () => {
  if (!canRunContainers || !canRunSentinel) return;
  topology = await SentinelTopology.start();
  cleanups.push(() => topology.close());
}, 60_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

describe.runIf(canRunContainers && canRunSentinel)('Redis failover through Sentinel (primary + replica, three sentinels)', () => {
  let waiting: { url: string };

  it('with HEARTH_REDIS_WAIT_REPLICAS=1 a 202 means a replica holds the job: a stalled replica gets 503, the job still runs', async () => {
    const plain = await startNode(cleanups, topology.url, 'no-wait');
    waiting = await startNode(cleanups, topology.url, 'wait-1', { HEARTH_REDIS_WAIT_REPLICAS: '1' });
    // The deploy itself waits for the replica too.
    const deployed = await call(waiting.url, 'POST', '/v1/functions', { name: 'noop', source: 'export default (e) => ({ i: e.i })' }, 60_000);
    expect(deployed.status).toBe(201);

    // The cost of waiting: sequential accepts, alternating the two nodes so both see the same load.
    const cost = { plain: [] as number[], waiting: [] as number[] };
    const ids: string[] = [];
    for (let i = 0; i < 100; i++) {
      for (const [node, times] of [[plain, cost.plain], [waiting, cost.waiting]] as const) {
        const a = await call(node.url, 'POST', '/v1/functions/noop/invocations', { i });
        expect(a.status).toBe(202);
        ids.push(a.body.id);
        times.push(a.ms);
      }
    }
    // The same at the Redis level: one write alone, or followed by what an accept adds (marker + WAIT 1).
    const direct = await topology.primaryClient();
    const raw = { plain: [] as number[], waiting: [] as number[] };
    try {
      for (let i = 0; i < 200; i++) {
        let t = performance.now();
        await direct.set('wait-cost', String(i));
        raw.plain.push(performance.now() - t);
        t = performance.now();
        await direct.pipeline().set('wait-cost', String(i)).publish('hearth:replica-ack', '').wait(1, 1000).exec();
        raw.waiting.push(performance.now() - t);
      }
    } finally {
      direct.disconnect();
    }
    console.log(`sentinel: async accept p50 without WAIT ${p50(cost.plain).toFixed(2)} ms, with WAIT 1 ${p50(cost.waiting).toFixed(2)} ms; `
      + `a bare SET ${p50(raw.plain).toFixed(2)} ms, SET + PUBLISH + WAIT 1 ${p50(raw.waiting).toFixed(2)} ms (loopback, appendfsync always on both servers)`);
    await plain.stop();

    // A replica that answers nothing: the accept cannot be confirmed and says so, with the id.
    const replica = await topology.replicaPort();
    topology.freeze(replica, true);
    let refused: Answer;
    try {
      refused = await call(waiting.url, 'POST', '/v1/functions/noop/invocations', { i: -1 });
    } finally {
      topology.freeze(replica, false);
    }
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('unavailable');
    expect(refused.body.error.message).toMatch(/replica/);
    expect(refused.ms).toBeGreaterThanOrEqual(900);
    const refusedId = /invocation ([0-9a-f-]{36})/.exec(refused.body.error.message)?.[1];
    expect(refusedId).toBeDefined();
    // "May still run": it was stored on the primary, so it does.
    const records = await waitForFinal(waiting.url, [...ids, refusedId!], 60_000);
    expect(records.filter((r) => r.status !== 'succeeded')).toEqual([]);
  }, 240_000);

  it('SIGKILL of the primary: invocations work again within 15 s and every accepted async invocation succeeds', async () => {
    const node = waiting;
    const source = 'export default async (e) => { await new Promise((r) => setTimeout(r, 100)); return { i: e.i }; }';
    expect((await call(node.url, 'POST', '/v1/functions', { name: 'work', source, config: { maxContainers: 2, timeoutMs: 5000 } }, 60_000)).status).toBe(201);
    expect((await call(node.url, 'POST', '/v1/functions/work/invoke', { i: 'warm' }, 60_000)).status).toBe(200);

    const accepted: string[] = [];
    // Queued behind each other (2 containers, 100 ms each): many are still waiting when the primary dies.
    for (let i = 0; i < 30; i++) {
      const a = await call(node.url, 'POST', '/v1/functions/work/invocations', { i });
      expect(a.status).toBe(202);
      accepted.push(a.body.id);
    }

    const killed = await topology.killPrimary();
    const killedAt = performance.now();
    const refusals: string[] = [];
    let syncBackMs: number | undefined;
    for (let i = 0; syncBackMs === undefined; i++) {
      if (performance.now() - killedAt > 30_000) throw new Error(`invocations did not work again within 30 s: ${refusals.join(', ')}\n${topology.logs()}`);
      const sync = await call(node.url, 'POST', '/v1/functions/work/invoke', { i: `sync-${i}` }, 6000);
      if (sync.status === 200) syncBackMs = performance.now() - killedAt;
      else refusals.push(`sync ${sync.status} ${sync.body?.error?.code}`);
      // Async accepts during the outage: each either is confirmed on a replica or refused.
      const a = await call(node.url, 'POST', '/v1/functions/work/invocations', { i: `during-${i}` }, 6000);
      if (a.status === 202) accepted.push(a.body.id);
      else refusals.push(`async ${a.status} ${a.body?.error?.code}`);
      await sleep(100);
    }
    const newPrimary = await topology.primaryPort();
    expect(newPrimary).not.toBe(killed);

    // The new primary has no replica until the old one comes back as one; then 202s resume.
    await topology.restartAsReplica(killed);
    let asyncBackMs: number | undefined;
    while (asyncBackMs === undefined) {
      if (performance.now() - killedAt > 60_000) throw new Error(`async accepts did not resume: ${refusals.slice(-5).join(', ')}`);
      const a = await call(node.url, 'POST', '/v1/functions/work/invocations', { i: 'after' }, 6000);
      if (a.status === 202) {
        accepted.push(a.body.id);
        asyncBackMs = performance.now() - killedAt;
      } else {
        refusals.push(`async ${a.status} ${a.body?.error?.code}`);
        await sleep(100);
      }
    }
    for (let i = 0; i < 20; i++) {
      const a = await call(node.url, 'POST', '/v1/functions/work/invocations', { i: `after-${i}` });
      expect(a.status).toBe(202);
      accepted.push(a.body.id);
    }

    const counts = new Map<string, number>();
    for (const r of refusals) counts.set(r, (counts.get(r) ?? 0) + 1);
    console.log(`sentinel: primary SIGKILLed; sync invokes work again after ${Math.round(syncBackMs)} ms, async accepts (WAIT 1, old primary restarted as replica) after ${Math.round(asyncBackMs)} ms; refused meanwhile: ${JSON.stringify(Object.fromEntries(counts))}`);
    expect(syncBackMs).toBeLessThanOrEqual(15_000);
    // Infrastructure trouble is never the function's error, and nothing is answered as a crash.
    expect(refusals.filter((r) => /function_error|internal/.test(r))).toEqual([]);

    const records = await waitForFinal(node.url, accepted, 90_000);
    expect(records.filter((r) => r.status !== 'succeeded').map((r) => `${r.id} ${r.status}`)).toEqual([]);
    expect(records).toHaveLength(accepted.length);
  }, 240_000);

  it('a switch without a crash (SENTINEL FAILOVER): no connection stays on the demoted primary, nothing accepted is lost', async () => {
    const node = waiting;
    const accepted: string[] = [];
    for (let i = 0; i < 20; i++) {
      const a = await call(node.url, 'POST', '/v1/functions/work/invocations', { i: `switch-${i}` });
      expect(a.status).toBe(202);
      accepted.push(a.body.id);
    }
    const demoted = await topology.primaryPort();
    expect((await topology.applicationClients(demoted)).length).toBeGreaterThan(0);
    await topology.switchover();
    const switchedAt = performance.now();
    // The demoted server keeps its sockets open (it was not killed): a client that stays on it would
    // read stale data, fail writes with READONLY, and a blocking one could wait there for ever.
    let left: string[] = [];
    let movedMs: number | undefined;
    while (movedMs === undefined) {
      if (performance.now() - switchedAt > 20_000) throw new Error(`connections still on the demoted primary after 20 s:\n${left.join('\n')}`);
      if ((await topology.primaryPort()) !== demoted) {
        left = await topology.applicationClients(demoted);
        if (left.length === 0) movedMs = performance.now() - switchedAt;
      }
      await sleep(100);
    }
    // Sync calls work once the clients are on the new primary; async ones (WAIT 1) once it has a
    // replica again: the demoted one, when Sentinel reconfigures it (it checks every 10 s).
    let syncMs: number | undefined;
    let asyncMs: number | undefined;
    while (syncMs === undefined || asyncMs === undefined) {
      if (performance.now() - switchedAt > 40_000) throw new Error(`not back after a switchover: sync ${syncMs}, async ${asyncMs}`);
      if (syncMs === undefined && (await call(node.url, 'POST', '/v1/functions/work/invoke', { i: 'after-switch' }, 6000)).status === 200) {
        syncMs = performance.now() - switchedAt;
      }
      if (asyncMs === undefined) {
        const a = await call(node.url, 'POST', '/v1/functions/work/invocations', { i: 'after-switch' }, 6000);
        if (a.status === 202) {
          accepted.push(a.body.id);
          asyncMs = performance.now() - switchedAt;
        }
      }
      await sleep(100);
    }
    console.log(`sentinel: switchover; every connection left the demoted primary after ${Math.round(movedMs)} ms, sync invokes work after ${Math.round(syncMs)} ms, async accepts (WAIT 1) after ${Math.round(asyncMs)} ms`);
    expect(syncMs).toBeLessThanOrEqual(15_000);
    const records = await waitForFinal(node.url, accepted, 90_000);
    expect(records.filter((r) => r.status !== 'succeeded').map((r) => `${r.id} ${r.status}`)).toEqual([]);
  }, 120_000);
});
