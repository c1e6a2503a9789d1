import { afterEach, describe, expect, it } from 'vitest';
import { startHearth, type TestHearth } from '../helpers/hearth.ts';
import { containerLeftovers, waitFor } from '../helpers/host.ts';

interface PoolContainer {
  id: string;
  function: string;
  version: number;
  state: 'idle' | 'busy' | 'starting';
  invocations: number;
  ageMs: number;
  idleSince: string | null;
  memoryBytes: number;
}

let h: TestHearth | undefined;

afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function containers(t: TestHearth, fn?: string): Promise<PoolContainer[]> {
  const all = (await t.api('GET', '/v1/pool')).body.containers as PoolContainer[];
  return fn ? all.filter((c) => c.function === fn) : all;
}

const sleeper = (ms: number) => `export default async (e) => { await new Promise((r) => setTimeout(r, e?.ms ?? ${ms})); return { ok: true }; }`;

describe('minWarm', () => {
  it('prewarms minWarm containers on deploy and again after a restart; the first invoke is warm', async () => {
    h = await startHearth();
    const dataDir = h.dataDir;
    expect((await h.deploy('warmed', 'export default () => 1', { minWarm: 2, idleTimeoutMs: 100 })).status).toBe(201);
    await waitFor(async () => (await containers(h!, 'warmed')).filter((c) => c.state === 'idle').length === 2, 20_000);
    const res = await h.invoke('warmed', {});
    expect(res.status).toBe(200);
    expect(res.headers.get('x-hearth-cold-start')).toBe('false');
    // idleTimeoutMs is short, but the reaper keeps minWarm containers.
    await new Promise((r) => setTimeout(r, 600));
    expect(await containers(h, 'warmed')).toHaveLength(2);
    const before = (await containers(h, 'warmed')).map((c) => c.id);

    await h.hearth.close();
    for (const id of before) expect(await containerLeftovers(h, id)).toEqual([]);
    const again = await startHearth({ dataDir, removeDataDir: true });
    h = again;
    await waitFor(async () => (await containers(again, 'warmed')).filter((c) => c.state === 'idle').length === 2, 20_000);
    expect((await again.invoke('warmed', {})).headers.get('x-hearth-cold-start')).toBe('false');
  });
});

describe('global limits', () => {
  it('evicts the least recently used idle container of another function when HEARTH_POOL_MEMORY_MB is full', async () => {
    h = await startHearth({ env: { HEARTH_POOL_MEMORY_MB: '256' } });
    for (const name of ['ev-a', 'ev-b', 'ev-c']) await h.deploy(name, 'export default () => process.pid', { memoryMb: 128, idleTimeoutMs: 600_000 });
    expect((await h.invoke('ev-a', {})).status).toBe(200);
    expect((await h.invoke('ev-b', {})).status).toBe(200);
    const [a] = await containers(h, 'ev-a');
    expect(a).toBeDefined();
    const c = await h.invoke('ev-c', {});
    expect(c.status).toBe(200);
    // This node alone: the first call of ev-c evicted and ran here at once, without the queue.
    const metrics = await fetch(`${h.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/hearth_sync_dispatch_total\{function="ev-c",path="direct"[^}]*\} 1/);
    expect(metrics).not.toMatch(/hearth_sync_dispatch_total\{function="ev-c",path="queued"/);
    await waitFor(async () => (await containers(h!, 'ev-a')).length === 0, 10_000);
    expect((await containers(h)).map((x) => x.function).sort()).toEqual(['ev-b', 'ev-c']);
    await waitFor(async () => (await containerLeftovers(h!, a!.id)).length === 0, 10_000);
    const pool = (await h.api('GET', '/v1/pool')).body;
    expect(pool.limits).toMatchObject({ memoryBudgetMb: 256, memoryReservedMb: 256, containers: 2 });
  });

  it('with HEARTH_MAX_CONTAINERS reached and nothing idle, an invocation waits (not fails) until a container frees up', async () => {
    h = await startHearth({ env: { HEARTH_MAX_CONTAINERS: '1' } });
    await h.deploy('hog', sleeper(1500), { idleTimeoutMs: 600_000 });
    await h.deploy('patient', 'export default () => "done"', { idleTimeoutMs: 600_000 });
    const order: string[] = [];
    const hog = h.invoke('hog', {}).then((r) => (order.push('hog'), r));
    await waitFor(async () => (await containers(h!, 'hog')).some((c) => c.state === 'busy'), 10_000);
    const patient = h.invoke('patient', {}).then((r) => (order.push('patient'), r));
    const [hr, pr] = await Promise.all([hog, patient]);
    expect(hr.status).toBe(200);
    expect(pr.status).toBe(200);
    expect(pr.body).toBe('done');
    expect(order).toEqual(['hog', 'patient']);
    expect((await containers(h)).map((x) => x.function)).toEqual(['patient']);
  });

  it('a waiting invocation whose deadline passes gets 504 timeout', async () => {
    h = await startHearth({ env: { HEARTH_MAX_CONTAINERS: '1' } });
    await h.deploy('hog2', sleeper(3000));
    await h.deploy('hasty', 'export default () => 1', { timeoutMs: 400 });
    const hog = h.invoke('hog2', {});
    await waitFor(async () => (await containers(h!, 'hog2')).some((c) => c.state === 'busy'), 10_000);
    const res = await h.invoke('hasty', {});
    expect(res.status).toBe(504);
    expect(res.body.error.code).toBe('timeout');
    expect((await hog).status).toBe(200);
  });
});

describe('fairness', () => {
  it('a function saturating maxContainers with slow work does not delay another function', async () => {
    h = await startHearth();
    const t = h;
    await t.deploy('slow-a', sleeper(2000), { maxContainers: 2, timeoutMs: 5000 });
    await t.deploy('probe', 'export default () => "probe"');
    await t.deploy('fast-b', 'export default () => "b"');
    // B's own cold start, measured with nothing else running.
    let started = performance.now();
    expect((await t.invoke('probe', {})).status).toBe(200);
    const coldMs = performance.now() - started;

    const abort = new AbortController();
    const queued = Array.from({ length: 20 }, () =>
      fetch(`${t.url}/v1/functions/slow-a/invoke`, { method: 'POST', body: '{}', signal: abort.signal }).catch(() => undefined),
    );
    await waitFor(async () => (await containers(t, 'slow-a')).filter((c) => c.state === 'busy').length === 2, 15_000);
    started = performance.now();
    const b = await t.invoke('fast-b', {});
    const bMs = performance.now() - started;
    expect(b.status).toBe(200);
    expect(b.body).toBe('b');
    // Head-of-line blocking would cost B ≥ 18 s (18 queued 2 s invocations on 2 containers); the
    // margin is generous for a busy 2-core machine and still far below that.
    expect(bMs).toBeLessThan(coldMs * 2 + 3000);
    abort.abort();
    await Promise.all(queued);
  });
});

describe('backpressure', () => {
  it('refuses invocations beyond maxQueued with 429 overloaded + Retry-After; every accepted one completes', async () => {
    h = await startHearth();
    const t = h;
    await t.deploy('narrow', sleeper(1000), { maxContainers: 1, maxQueued: 2 });
    const calls = [];
    for (let i = 0; i < 6; i++) {
      calls.push(t.invoke('narrow', {}));
      await new Promise((r) => setTimeout(r, 120));
    }
    const results = await Promise.all(calls);
    const refused = results.filter((r) => r.status === 429);
    const accepted = results.filter((r) => r.status !== 429);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) {
      expect(r.body.error.code).toBe('overloaded');
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    // The first two always find fewer than maxQueued waiting.
    expect(accepted.length).toBeGreaterThanOrEqual(2);
    for (const r of accepted) expect(r.status).toBe(200);
    expect((await t.invoke('narrow', { ms: 1 })).status).toBe(200);
  });

  it('applies to async submissions too: refused with 429, and every accepted one finishes', async () => {
    h = await startHearth();
    const t = h;
    await t.deploy('narrow-async', sleeper(600), { maxContainers: 1, maxQueued: 2 });
    const responses = [];
    for (let i = 0; i < 6; i++) {
      responses.push(await t.api('POST', '/v1/functions/narrow-async/invocations', '{}'));
      await new Promise((r) => setTimeout(r, 50));
    }
    const accepted = responses.filter((r) => r.status === 202);
    const refused = responses.filter((r) => r.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    expect(accepted.length).toBeGreaterThanOrEqual(2);
    for (const r of refused) expect(r.body.error.code).toBe('overloaded');
    for (const r of accepted) {
      await waitFor(async () => (await t.api('GET', `/v1/invocations/${r.body.id}`)).body.status === 'succeeded', 20_000);
    }
  });
});

describe('GET /v1/pool', () => {
  it('lists each container with function, version, state, age, invocations, idle since and cgroup memory', async () => {
    h = await startHearth();
    await h.deploy('listed', sleeper(800), { idleTimeoutMs: 600_000 });
    await h.invoke('listed', { ms: 1 });
    const busy = h.invoke('listed', {});
    await waitFor(async () => (await containers(h!, 'listed'))[0]?.state === 'busy', 5000);
    const [during] = await containers(h, 'listed');
    expect(during).toMatchObject({ function: 'listed', version: 1, state: 'busy', invocations: 1, idleSince: null });
    await busy;
    const [after] = await containers(h, 'listed');
    expect(after).toMatchObject({ state: 'idle', invocations: 2 });
    expect(after!.ageMs).toBeGreaterThan(0);
    expect(Date.parse(after!.idleSince!)).toBeLessThanOrEqual(Date.now());
    // A node process with the agent loaded: megabytes, not zero and not the whole host.
    expect(after!.memoryBytes).toBeGreaterThan(4 * 2 ** 20);
    expect(after!.memoryBytes).toBeLessThan(128 * 2 ** 20);
    expect((await h.api('GET', '/v1/pool')).body.stemCells).toEqual([]);
  });
});
