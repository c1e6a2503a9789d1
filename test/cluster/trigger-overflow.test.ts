import { afterAll, describe, expect, it } from 'vitest';
import { canRunContainers } from '../helpers/host.ts';
import { waitFor } from './cluster-harness.ts';
import { api, clusterRedis, clusterRegistry, startNode, type Cleanup } from './dispatch-helpers.ts';

const cleanups: Cleanup[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

const FETCH_HANDLER = `export default { async fetch(req, env, ctx) {
  const u = new URL(req.url);
  const body = new Uint8Array(await req.arrayBuffer());
  return new Response(JSON.stringify({ method: req.method, path: u.pathname, q: u.searchParams.get('q'), h: req.headers.get('x-test'),
    bytes: [...body], foo: env.FOO }), { status: 201, headers: { 'x-custom': 'yes', 'content-type': 'application/json' } });
} }`;

describe.runIf(canRunContainers)('the HTTP trigger through any node', () => {
  let redisUrl = '';
  let registry = '';

  it('a node that cannot get the image serves /fn/ through the queue: a node with the image runs it, the buffered response comes back', async () => {
    redisUrl = (await clusterRedis(cleanups)).url;
    registry = await clusterRegistry(cleanups);
    const a = await startNode(cleanups, redisUrl, 'node-a', { HEARTH_REGISTRY: registry });
    // No registry configured: it can never get an image deployed on another node.
    const b = await startNode(cleanups, redisUrl, 'node-b');
    expect((await api(a.url, 'POST', '/v1/functions', { name: 'web', source: FETCH_HANDLER, config: { env: { FOO: 'bar' } } })).version).toBe(1);
    await waitFor(async () => {
      const nodes = (await api(a.url, 'GET', '/v1/nodes')).nodes as { id: string; unavailable: string[] }[];
      return nodes.find((n) => n.id === 'node-b')?.unavailable.includes('web') ? true : undefined;
    }, 10_000, 100);

    // Binary body: every byte value survives the trip as a job and back.
    const sent = Uint8Array.from({ length: 256 }, (_, i) => i);
    const res = await fetch(`${b.url}/fn/web/some/path?q=1`, { method: 'PUT', body: sent, headers: { 'x-test': 'through-queue' } });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-custom')).toBe('yes');
    expect(res.headers.get('x-hearth-cold-start')).toBe('true');
    const id = res.headers.get('x-hearth-invocation-id')!;
    expect(await res.json()).toEqual({ method: 'PUT', path: '/some/path', q: '1', h: 'through-queue', bytes: [...sent], foo: 'bar' });

    const again = await fetch(`${b.url}/fn/web/`);
    expect([again.status, again.headers.get('x-hearth-cold-start')]).toEqual([201, 'false']);
    expect(((await again.json()) as { method: string }).method).toBe('GET');

    // The record names the node that ran it and the trigger; the body went to the caller, not the record.
    const { value: record } = await waitFor(async () => {
      const r = await api(b.url, 'GET', `/v1/invocations/${id}`);
      return r?.status === 'succeeded' ? r : undefined;
    }, 5_000, 100);
    expect(record).toMatchObject({ node: 'node-a', trigger: 'http', function: 'web' });
    expect(record.result).toBeUndefined();

    // A function error travels back as one: 500 function_error with the invocation id.
    await api(a.url, 'POST', '/v1/functions', { name: 'web', source: 'export default { fetch() { throw new Error("boom"); } }' });
    const { value: failed } = await waitFor(async () => {
      const r = await fetch(`${b.url}/fn/web/`);
      return r.status === 500 ? r : undefined;
    }, 10_000, 200);
    expect(((await failed.json()) as { error: { code: string } }).error.code).toBe('function_error');
    expect(failed.headers.get('x-hearth-invocation-id')).toMatch(/^[0-9a-f-]{36}$/);
  }, 120_000);

  it('a node whose containers of the function are all busy sends the next request to a node with room', async () => {
    const a = await startNode(cleanups, redisUrl, 'node-x', { HEARTH_REGISTRY: registry });
    const c = await startNode(cleanups, redisUrl, 'node-y', { HEARTH_REGISTRY: registry });
    const slow = 'export default { async fetch() { await new Promise((r) => setTimeout(r, 1500)); return new Response("done"); } }';
    expect((await api(a.url, 'POST', '/v1/functions', { name: 'slow', source: slow, config: { maxContainers: 1 } })).version).toBe(1);
    // Warm on node-x: its one container is then busy with the first request when the second arrives.
    expect((await fetch(`${a.url}/fn/slow/`)).status).toBe(200);
    // The lease ends just after the response body: wait until the container is idle again, or the
    // next request would (rightly) overflow too.
    await waitFor(async () => {
      const pool = await api(a.url, 'GET', '/v1/pool');
      const mine = (pool?.containers as { function: string; node: string; inFlight: number }[] | undefined)?.find((x) => x.function === 'slow' && x.node === 'node-x');
      return mine && mine.inFlight === 0 ? true : undefined;
    }, 5_000, 50);
    const first = fetch(`${a.url}/fn/slow/`);
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    const second = await fetch(`${a.url}/fn/slow/`);
    expect([second.status, await second.text()]).toEqual([200, 'done']);
    expect((await first).status).toBe(200);
    const ids = [(await first).headers.get('x-hearth-invocation-id')!, second.headers.get('x-hearth-invocation-id')!];
    const ran = await Promise.all(ids.map(async (id) => (await waitFor(async () => {
      const r = await api(c.url, 'GET', `/v1/invocations/${id}`);
      return r?.status === 'succeeded' ? r.node as string : undefined;
    }, 5_000, 100)).value));
    console.log(`trigger overflow: second request ran on ${ran[1]} in ${Date.now() - started} ms`);
    // Another node with the image and room ran it (node-a from the test before may be the one).
    expect(ran[0]).toBe('node-x');
    expect(['node-a', 'node-y']).toContain(ran[1]);
  }, 120_000);
});
