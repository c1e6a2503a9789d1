import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, waitFor, type ClusterNode, type TestCluster } from './cluster-harness.ts';

/**
 * Three Hearth processes on one Redis and one registry, as three machines would run them, plus
 * a fourth without a registry. Times printed here are what the README quotes.
 */
let cluster: TestCluster;
let a: ClusterNode;
let b: ClusterNode;
let c: ClusterNode;

interface PoolContainer { id: string; function: string; version: number; state: string; retiring: boolean; node: string }
interface NodeInfo { id: string; url: string; version: string; containers: number; memoryReservedMb: number; unavailable: string[]; lastHeartbeat: string }

beforeAll(async () => {
  cluster = await startCluster(['node-a', 'node-b', 'node-c']);
  [a, b, c] = cluster.nodes as [ClusterNode, ClusterNode, ClusterNode];
}, 120_000);

afterAll(async () => {
  await cluster?.close();
});

/** The containers a node holds itself (its own part of the cluster-wide /v1/pool). */
async function ownContainers(node: ClusterNode, fn: string): Promise<PoolContainer[]> {
  const pool = await node.api<{ containers: PoolContainer[] }>('GET', '/v1/pool');
  return pool.body.containers.filter((x) => x.node === node.name && x.function === fn);
}

async function nodes(via: ClusterNode): Promise<NodeInfo[]> {
  return (await via.api<{ nodes: NodeInfo[] }>('GET', '/v1/nodes')).body.nodes;
}

/** Async invocations through `via`, waited for; returns their final records. */
async function runAsync(via: ClusterNode, fn: string, count: number): Promise<{ status: string; node?: string; error?: { code: string } }[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const res = await via.api<{ id: string }>('POST', `/v1/functions/${fn}/invocations`, { i });
    expect(res.status).toBe(202);
    ids.push(res.body.id);
  }
  return Promise.all(ids.map(async (id) => (await waitFor(async () => {
    const rec = await via.api<{ status: string; node?: string }>('GET', `/v1/invocations/${id}`);
    return rec.body.status === 'succeeded' || rec.body.status === 'failed' ? rec.body : undefined;
  }, 60_000, 100)).value));
}

describe('a cluster of three nodes', () => {
  it('lists every node with its URL, version, containers and memory', async () => {
    const listed = await nodes(c);
    expect(listed.map((n) => n.id)).toEqual(['node-a', 'node-b', 'node-c']);
    expect(listed.map((n) => n.url)).toEqual([a.url, b.url, c.url]);
    for (const n of listed) expect(n).toMatchObject({ version: expect.any(String), containers: 0, memoryReservedMb: 0, unavailable: [] });
  });

  it('serves a function deployed on one node through another, and records name the node that ran them', async () => {
    expect((await a.deploy('hello', 'export default (e) => ({ hi: e?.who ?? "there" })')).status).toBe(201);
    const res = await b.api('POST', '/v1/functions/hello/invoke', { who: 'b' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ hi: 'b' });

    const records = await runAsync(c, 'hello', 30);
    expect(records.every((r) => r.status === 'succeeded')).toBe(true);
    const spread = new Map<string, number>();
    for (const r of records) spread.set(r.node!, (spread.get(r.node!) ?? 0) + 1);
    console.info(`30 async invocations through node-c ran on: ${JSON.stringify(Object.fromEntries(spread))}`);
    expect([...spread.keys()].every((n) => ['node-a', 'node-b', 'node-c'].includes(n))).toBe(true);

    // Any node's /v1/pool shows every node's containers, each naming its node.
    const { value: pool } = await waitFor(async () => {
      const all = (await a.api<{ containers: PoolContainer[] }>('GET', '/v1/pool')).body.containers.filter((x) => x.function === 'hello');
      const held = new Set(all.map((x) => x.node));
      return [...spread.keys()].every((n) => held.has(n)) ? all : undefined;
    }, 10_000, 200);
    expect(pool.length).toBeGreaterThan(0);
  });

  it('an identical redeploy from another node is a no-op', async () => {
    const again = await c.deploy('hello', 'export default (e) => ({ hi: e?.who ?? "there" })');
    expect(again.status).toBe(201);
    expect(again.body).toMatchObject({ version: 1, unchanged: true });
    expect((await b.api<{ versions: unknown[] }>('GET', '/v1/functions/hello/versions')).body.versions).toHaveLength(1);
  });

  it('a rollback on one node retires the old version on every node within 1 s', async () => {
    const config = { minWarm: 1 };
    expect((await a.deploy('roll', 'export default () => "one"', config)).status).toBe(201);
    expect((await a.deploy('roll', 'export default () => "two"', config)).body.version).toBe(2);
    // minWarm: every node keeps one container of the current version (pulled from the registry).
    for (const node of [a, b, c]) {
      await waitFor(async () => (await ownContainers(node, 'roll')).some((x) => x.version === 2 && x.state === 'idle' && !x.retiring), 30_000, 100);
    }

    const started = performance.now();
    expect((await b.api('POST', '/v1/functions/roll/rollback', { version: 1 })).status).toBe(200);
    const times = await Promise.all([a, b, c].map(async (node) => {
      await waitFor(async () => !(await ownContainers(node, 'roll')).some((x) => x.version === 2 && !x.retiring), 5000);
      return Math.round(performance.now() - started);
    }));
    console.info(`rollback seen (old containers retired) on node-a/b/c after ${times.join(' / ')} ms`);
    for (const ms of times) expect(ms).toBeLessThan(1000);
    expect((await c.invoke('roll')).body).toBe('one');
  });

  it('a secret change recycles the containers that mount it on every node within 1 s', async () => {
    expect((await a.api('PUT', '/v1/secrets/tok', { value: 'first' })).status).toBe(200);
    const source = "import { readFileSync } from 'node:fs'; export default () => readFileSync('/run/secrets/tok', 'utf8');";
    expect((await a.deploy('sec', source, { minWarm: 1, secrets: ['tok'] })).status).toBe(201);
    const before = new Map<string, string[]>();
    for (const node of [a, b, c]) {
      const { value } = await waitFor(async () => {
        const own = (await ownContainers(node, 'sec')).filter((x) => x.state === 'idle' && !x.retiring);
        return own.length > 0 ? own : undefined;
      }, 30_000, 100);
      before.set(node.name, value.map((x) => x.id));
    }
    expect((await b.invoke('sec')).body).toBe('first');

    const started = performance.now();
    expect((await c.api('PUT', '/v1/secrets/tok', { value: 'second' })).status).toBe(200);
    const times = await Promise.all([a, b, c].map(async (node) => {
      const old = new Set(before.get(node.name));
      await waitFor(async () => !(await ownContainers(node, 'sec')).some((x) => old.has(x.id) && !x.retiring), 5000);
      return Math.round(performance.now() - started);
    }));
    console.info(`secret change seen (containers recycled) on node-a/b/c after ${times.join(' / ')} ms`);
    for (const ms of times) expect(ms).toBeLessThan(1000);
    for (const node of [a, b, c]) expect((await node.invoke('sec')).body).toBe('second');
  });

  describe('a fourth node without a registry', () => {
    let d: ClusterNode;

    beforeAll(async () => {
      expect((await a.deploy('early', 'export default () => "early"')).status).toBe(201);
      d = await cluster.addNode('node-d', { registry: false });
    }, 60_000);

    it('cannot get the images, so it takes none of their work and no job fails', async () => {
      expect((await a.deploy('late', 'export default () => "late"')).status).toBe(201);
      // The node says which functions it cannot run (at start for "early", on the change notice for "late").
      const { value: self } = await waitFor(async () => {
        const found = (await nodes(a)).find((n) => n.id === 'node-d');
        return found && ['early', 'late', 'hello'].every((f) => found.unavailable.includes(f)) ? found : undefined;
      }, 5000, 100);
      expect(self.unavailable).toEqual(expect.arrayContaining(['early', 'late', 'hello', 'roll', 'sec']));

      const records = [...(await runAsync(d, 'early', 15)), ...(await runAsync(d, 'late', 15))];
      const failed = records.filter((r) => r.status !== 'succeeded');
      expect(failed).toEqual([]);
      expect(records.some((r) => r.node === 'node-d')).toBe(false);
      for (let i = 0; i < 5; i++) {
        const res = await d.invoke('late');
        expect(res.status).toBe(200);
        expect(res.body).toBe('late');
      }
    });

    it('a SIGKILLed node drops out of the list within ~20 s; what only it could run is then refused as image_unavailable', async () => {
      // Deployed where there is no registry: only node-d has the image, the others say so.
      expect((await d.deploy('d-only', 'export default () => "from d"')).status).toBe(201);
      await waitFor(async () => (await nodes(a)).filter((n) => n.unavailable.includes('d-only')).map((n) => n.id).join() === 'node-a,node-b,node-c', 5000, 100);
      const served = await a.invoke('d-only');
      expect(served.status).toBe(200);
      expect(served.body).toBe('from d');

      await d.kill();
      const { ms } = await waitFor(async () => !(await nodes(b)).some((n) => n.id === 'node-d'), 25_000, 200);
      console.info(`SIGKILLed node dropped from /v1/nodes after ${Math.round(ms)} ms`);
      expect(ms).toBeLessThan(20_000);
      expect((await nodes(c)).map((n) => n.id)).toEqual(['node-a', 'node-b', 'node-c']);

      // No live node can get the image: an infrastructure error at once, not a job left waiting or a function_error.
      const started = performance.now();
      const refused = await a.invoke('d-only');
      expect(refused.status).toBe(503);
      expect(refused.body.error.code).toBe('image_unavailable');
      expect(performance.now() - started).toBeLessThan(2000);
      expect((await b.api('POST', '/v1/functions/d-only/invocations', {})).status).toBe(503);
    }, 40_000);
  });
});
