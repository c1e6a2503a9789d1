import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Pool, type PoolOptions } from '../../src/pool/index.ts';
import { FakeRuntime, Gate, fakeFunction, fakeLayerDirs, request } from './fake-runtime.ts';

let runtime: FakeRuntime;
let pool: Pool;

beforeEach(() => {
  vi.useFakeTimers();
  runtime = new FakeRuntime();
});
afterEach(async () => {
  await pool.close();
  vi.useRealTimers();
});

function startPool(o: Partial<PoolOptions> = {}): Pool {
  pool = new Pool({ runtime, layerDirs: fakeLayerDirs, ...o });
  pool.start();
  return pool;
}

describe('leases', () => {
  it('a second invoke reuses the warm container; concurrency lets one container take several at once', async () => {
    startPool();
    const fn = fakeFunction('a');
    const first = await pool.run(fn, request());
    const second = await pool.run(fn, request());
    expect(first).toMatchObject({ coldStart: true, stemCell: false, outcome: { ok: true } });
    expect(second).toMatchObject({ coldStart: false, containerId: first.containerId });

    // A starting container is reserved for the caller that started it: a second caller meanwhile starts another.
    const shared = fakeFunction('shared', { concurrency: 2 });
    const hold = new Gate();
    await Promise.all([pool.run(shared, request(10_000, hold.promise)), pool.run(shared, request(10_000, hold.promise)), hold.open()]);
    expect(runtime.live('shared')).toHaveLength(2);
    // Warm callers fill the most recently used container first, so the other stays idle and can be reaped.
    const again = new Gate();
    const runs = [pool.run(shared, request(10_000, again.promise)), pool.run(shared, request(10_000, again.promise))];
    await vi.advanceTimersByTimeAsync(0);
    expect(runtime.live('shared')).toHaveLength(2);
    expect(pool.snapshot().map((e) => e.inFlight).sort()).toEqual([0, 0, 2]);
    // states(): the same containers as the report, without its dates and order.
    const projected = pool.snapshot().map(({ function: f, state, retiring, inFlight }) => ({ function: f, state, retiring, inFlight }));
    expect([...pool.states()].sort((a, b) => a.function.localeCompare(b.function) || a.inFlight - b.inFlight)).toEqual(
      projected.sort((a, b) => a.function.localeCompare(b.function) || a.inFlight - b.inFlight),
    );
    expect(pool.states().filter((c) => c.function === 'shared').map((c) => c.state).sort()).toEqual(['busy', 'idle']);
    again.open();
    await Promise.all(runs);
  });

  it('tryRun takes only a free warm slot: never starts a container, never jumps ahead of a waiting caller', async () => {
    startPool();
    const fn = fakeFunction('direct', { maxContainers: 1 });
    // Nothing warm yet: no start, nothing run.
    expect(pool.tryRun(fn, request())).toBeUndefined();
    expect(runtime.live('direct')).toHaveLength(0);

    const first = await pool.run(fn, request());
    const direct = await pool.tryRun(fn, request());
    expect(direct).toMatchObject({ coldStart: false, containerId: first.containerId, outcome: { ok: true } });
    // Another version's container is no use to it.
    expect(pool.tryRun(fakeFunction('direct', { maxContainers: 1 }, 2), request())).toBeUndefined();

    // Busy (concurrency 1), then a caller waits for it: a free slot goes to the waiter, not to tryRun.
    const hold = new Gate();
    const busy = pool.tryRun(fn, request(10_000, hold.promise))!;
    expect(busy).toBeDefined();
    expect(pool.tryRun(fn, request())).toBeUndefined();
    const waiter = pool.run(fn, request(10_000, hold.promise));
    await vi.advanceTimersByTimeAsync(0);
    expect(pool.tryRun(fn, request())).toBeUndefined();
    hold.open();
    await busy;
    expect(pool.tryRun(fn, request())).toBeUndefined();
    await waiter;
    expect(await pool.tryRun(fn, request())).toMatchObject({ coldStart: false, outcome: { ok: true } });
    expect(runtime.live('direct')).toHaveLength(1);
  });

  it('tryRun with startHere starts the first container of a function here, never a second, never past the limits', async () => {
    startPool({ memoryBudgetMb: 200 });
    const fn = fakeFunction('first-here', { maxContainers: 2, memoryMb: 128 });
    const hold = new Gate();
    const first = pool.tryRun(fn, request(10_000, hold.promise), { startHere: true })!;
    expect(first).toBeDefined();
    // Starting or busy, it is the function's container here: a second call goes to the queue.
    expect(pool.tryRun(fn, request(), { startHere: true })).toBeUndefined();
    hold.open();
    expect(await first).toMatchObject({ coldStart: true, stemCell: false, outcome: { ok: true } });
    expect(runtime.live('first-here')).toHaveLength(1);
    // No memory left for another function's first container: nothing is evicted for it here.
    expect(pool.tryRun(fakeFunction('too-big', { memoryMb: 128 }), request(), { startHere: true })).toBeUndefined();
    expect(runtime.live('first-here')).toHaveLength(1);
  });

  it('tryRun with evictHere makes room for a first container as a queued start would, but never ahead of a waiting caller', async () => {
    startPool({ memoryBudgetMb: 256 });
    await pool.run(fakeFunction('a', { memoryMb: 128 }), request());
    const hold = new Gate();
    const busyB = pool.run(fakeFunction('b', { memoryMb: 128 }), request(10_000, hold.promise));
    await vi.advanceTimersByTimeAsync(0);
    // Full: without evictHere the call is left to the queue; with it, idle a goes.
    expect(pool.tryRun(fakeFunction('c', { memoryMb: 128 }), request(), { startHere: true })).toBeUndefined();
    const c = await pool.tryRun(fakeFunction('c', { memoryMb: 128 }), request(), { startHere: true, evictHere: true })!;
    expect(c).toMatchObject({ coldStart: true, outcome: { ok: true } });
    await vi.advanceTimersByTimeAsync(0);
    expect(runtime.live('a')).toHaveLength(0);
    expect(runtime.created.find((x) => x.options.functionName === 'a')!.destroyReason).toBe('evicted for c');
    // d needs the whole budget: evicting idle c is not enough while b is busy, so its caller waits.
    const waiting = pool.run(fakeFunction('d', { memoryMb: 256 }), request());
    await vi.advanceTimersByTimeAsync(0);
    // d waits for b; e may not jump ahead of it by evicting c.
    expect(pool.tryRun(fakeFunction('e', { memoryMb: 128 }), request(), { startHere: true, evictHere: true })).toBeUndefined();
    expect(runtime.live('c')).toHaveLength(1);
    hold.open();
    await busyB;
    expect((await waiting).outcome.ok).toBe(true);
  });

  it('a container that dies is forgotten, and the next invoke starts a new one', async () => {
    startPool();
    const fn = fakeFunction('crashy');
    const first = await pool.run(fn, request());
    runtime.live('crashy')[0]!.crash();
    await vi.advanceTimersByTimeAsync(0);
    expect(pool.snapshot()).toEqual([]);
    const next = await pool.run(fn, request());
    expect(next.coldStart).toBe(true);
    expect(next.containerId).not.toBe(first.containerId);
  });

  it('a function whose memoryMb exceeds the whole budget fails at once instead of waiting', async () => {
    startPool({ memoryBudgetMb: 256 });
    const result = await pool.run(fakeFunction('huge', { memoryMb: 512 }), request());
    expect(result.outcome).toMatchObject({ ok: false, error: { code: 'function_error' } });
    expect(runtime.created).toHaveLength(0);
  });

  it('retiring an old version lets busy containers finish, then destroys them; idle ones go at once', async () => {
    startPool();
    const v1 = fakeFunction('r', {}, 1);
    const hold = new Gate();
    const busy = pool.run(v1, request(10_000, hold.promise));
    await pool.run(v1, request());
    await vi.advanceTimersByTimeAsync(0);
    const [busyC, idleC] = runtime.live('r');
    await pool.retire('r', 2);
    expect(idleC!.destroyReason).toBe('retired');
    expect(busyC!.alive).toBe(true);
    hold.open();
    expect((await busy).outcome.ok).toBe(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(busyC!.destroyReason).toBe('retired');
    expect(pool.liveDigests().size).toBe(0);
  });
});

describe('eviction', () => {
  it('evicts the least recently used idle container of another function when the budget is full', async () => {
    startPool({ memoryBudgetMb: 256 });
    const a = await pool.run(fakeFunction('a', { memoryMb: 128 }), request());
    await vi.advanceTimersByTimeAsync(5);
    const b = await pool.run(fakeFunction('b', { memoryMb: 128 }), request());
    await vi.advanceTimersByTimeAsync(5);
    const c = await pool.run(fakeFunction('c', { memoryMb: 128 }), request());
    expect(c.outcome.ok).toBe(true);
    const byId = new Map(runtime.created.map((x) => [x.id, x]));
    expect(byId.get(a.containerId!)!.destroyReason).toBe('evicted for c');
    expect(byId.get(b.containerId!)!.alive).toBe(true);
  });

  it('the budget is not handed out twice: a destroyed container counts until it is really gone', async () => {
    startPool({ memoryBudgetMb: 128 });
    await pool.run(fakeFunction('a', { memoryMb: 128 }), request());
    runtime.destroyGate = new Gate();
    const retiring = pool.retire('a');
    await vi.advanceTimersByTimeAsync(0);
    expect(pool.snapshot()).toEqual([]);

    const b = pool.run(fakeFunction('b', { memoryMb: 128 }), request());
    await vi.advanceTimersByTimeAsync(100);
    expect(runtime.created.filter((x) => x.options.functionName === 'b')).toHaveLength(0);
    expect((await pool.describe()).limits).toMatchObject({ memoryReservedMb: 128, waiting: 1 });

    runtime.destroyGate.open();
    await retiring;
    expect((await b).outcome.ok).toBe(true);
    expect(runtime.live()).toHaveLength(1);
  });

  it('a caller of a new version at maxContainers makes room by replacing an idle old-version container', async () => {
    startPool();
    await pool.run(fakeFunction('v', { maxContainers: 1 }, 1), request());
    const v2 = await pool.run(fakeFunction('v', { maxContainers: 1 }, 2), request(10_000));
    expect(v2.outcome.ok).toBe(true);
    expect(runtime.created[0]!.destroyReason).toBe('replaced by a newer version');
  });
});

describe('describe and snapshot', () => {
  it('reports containers, states, limits and waiting callers', async () => {
    startPool({ maxContainers: 1, memoryBudgetMb: 512 });
    const hold = new Gate();
    const busy = pool.run(fakeFunction('a', { memoryMb: 256 }), request(10_000, hold.promise));
    const waiting = pool.run(fakeFunction('b'), request(10_000));
    await vi.advanceTimersByTimeAsync(0);
    const d = await pool.describe();
    expect(d.containers).toHaveLength(1);
    expect(d.containers[0]).toMatchObject({ function: 'a', state: 'busy', inFlight: 1, memoryMb: 256, memoryBytes: 256 * 1024 * 1024, idleSince: null });
    expect(d.limits).toEqual({ maxContainers: 1, memoryBudgetMb: 512, containers: 1, memoryReservedMb: 256, waiting: 1 });
    expect(d.stemCells).toEqual([]);
    hold.open();
    await Promise.all([busy, waiting]);
  });
});

describe('stem cells and code caches made ahead', () => {
  const baseLayerDir = async (): Promise<string> => '/layers/base';

  it("a first invoke specializes a stem cell with the function's files and env; the cell is replaced after", async () => {
    // The function's files are read from its unpacked top layer: give it a real one.
    const top = await mkdtemp(path.join(tmpdir(), 'hearth-pool-'));
    await mkdir(path.join(top, 'function'));
    await writeFile(path.join(top, 'function', 'index.mjs'), 'export default () => 1');
    const warnings: string[] = [];
    startPool({ stemCells: 1, stemCellMemoryMb: 256, baseLayerDir, layerDirs: async () => [top], warn: (m) => warnings.push(m) });
    await vi.advanceTimersByTimeAsync(0);
    expect(pool.readyStemCells).toBe(1);
    const fn = fakeFunction('spec', { env: { GREETING: 'hi' }, memoryMb: 256 });
    const result = await pool.run(fn, request());
    expect(result).toMatchObject({ coldStart: true, stemCell: true, outcome: { ok: true } });
    const cell = runtime.created.find((c) => c.id === result.containerId)!;
    expect(cell.options.functionName).toBe('stem');
    expect(warnings).toEqual([]);
    expect(cell.specializedFor).toMatchObject({ functionName: 'spec', files: { 'index.mjs': Buffer.from('export default () => 1') }, env: { GREETING: 'hi' }, memoryMb: 256 });
    await vi.advanceTimersByTimeAsync(0);
    expect(pool.readyStemCells).toBe(1);
    expect(runtime.live('stem')).toHaveLength(2);
    await rm(top, { recursive: true });
  });

  it('a function shipping files beside its code (assets, external packages) starts cold from its own image, leaving the cell', async () => {
    const top = await mkdtemp(path.join(tmpdir(), 'hearth-pool-'));
    await mkdir(path.join(top, 'function', 'templates'), { recursive: true });
    await writeFile(path.join(top, 'function', 'index.mjs'), 'export default () => 1');
    await writeFile(path.join(top, 'function', 'templates', 'page.html'), '<p>hi</p>');
    const warnings: string[] = [];
    startPool({ stemCells: 1, baseLayerDir, layerDirs: async () => [top], warn: (m) => warnings.push(m) });
    await vi.advanceTimersByTimeAsync(0);
    expect(await pool.run(fakeFunction('assets'), request())).toMatchObject({ coldStart: true, stemCell: false, outcome: { ok: true } });
    expect(pool.readyStemCells).toBe(1);
    expect(runtime.created.filter((c) => c.specializedFor !== undefined)).toEqual([]);
    expect(warnings).toEqual([]);
    await rm(top, { recursive: true });
  });

  it('tryRun with startHere takes a ready cell for a function with no container here, and only then', async () => {
    const top = await mkdtemp(path.join(tmpdir(), 'hearth-pool-'));
    await mkdir(path.join(top, 'function'));
    await writeFile(path.join(top, 'function', 'index.mjs'), 'export default () => 1');
    startPool({ stemCells: 1, baseLayerDir, layerDirs: async () => [top] });
    await vi.advanceTimersByTimeAsync(0);
    const fn = fakeFunction('first', { concurrency: 1 });
    // Not asked to (the function is warm on another node): nothing starts.
    expect(pool.tryRun(fn, request(), { startHere: false })).toBeUndefined();
    expect(pool.readyStemCells).toBe(1);
    const first = await pool.tryRun(fn, request(), { startHere: true });
    expect(first).toMatchObject({ coldStart: true, stemCell: true, outcome: { ok: true } });
    // Warm now: the next call takes the slot, not another cell.
    await vi.advanceTimersByTimeAsync(0);
    expect(pool.readyStemCells).toBe(1);
    expect(await pool.tryRun(fn, request(), { startHere: true })).toMatchObject({ coldStart: false });
    // Its one container busy: no second container from a cell on the direct path (the queue decides that).
    const hold = new Gate();
    const busy = pool.tryRun(fn, request(10_000, hold.promise), { startHere: true })!;
    expect(pool.tryRun(fn, request(), { startHere: true })).toBeUndefined();
    expect(pool.readyStemCells).toBe(1);
    hold.open();
    await busy;
    // A function a cell cannot serve starts cold from its own image, the cell stays.
    expect(await pool.tryRun(fakeFunction('net', { network: 'bridge' }), request(), { startHere: true })).toMatchObject({ coldStart: true, stemCell: false, outcome: { ok: true } });
    expect(pool.readyStemCells).toBe(1);
    await rm(top, { recursive: true });
  });

  it('functions a cell cannot serve (bridge network, secrets, another memoryMb than the cells\' 128) start cold from their own image', async () => {
    startPool({ stemCells: 1, baseLayerDir });
    await vi.advanceTimersByTimeAsync(0);
    for (const fn of [
      fakeFunction('net', { network: 'bridge' }),
      fakeFunction('secret', { secrets: ['token'] }),
      fakeFunction('big', { memoryMb: 1024 }),
      fakeFunction('small', { memoryMb: 64 }),
    ]) {
      expect(await pool.run(fn, request())).toMatchObject({ coldStart: true, stemCell: false });
    }
    expect(pool.readyStemCells).toBe(1);
  });

  it("a version's code cache is asked for ahead; two functions with one image never share a cache key", async () => {
    startPool({ localLayerDirs: fakeLayerDirs });
    const one = fakeFunction('one', { memoryMb: 256 });
    const two = { ...fakeFunction('two'), digest: one.digest };
    pool.keepWarm(one);
    pool.keepWarm(two);
    await vi.advanceTimersByTimeAsync(0);
    expect(runtime.precompiles).toEqual([
      { key: `one@${one.digest}`, layerDirs: await fakeLayerDirs(one.digest), memoryMb: 256 },
      { key: `two@${one.digest}`, layerDirs: await fakeLayerDirs(one.digest), memoryMb: 128 },
    ]);
    await pool.run(one, request());
    await pool.run(two, request());
    expect(runtime.created.map((c) => c.options.codeCacheKey)).toEqual([`one@${one.digest}`, `two@${one.digest}`]);

    // A newer version keeps the older one's cache (a rollback finds it); removing the function drops its cache.
    const next = fakeFunction('one', { memoryMb: 256 }, 2);
    pool.keepWarm(next);
    await vi.advanceTimersByTimeAsync(0);
    expect(runtime.discardedCaches).toEqual([]);
    await pool.retire('one');
    expect(runtime.discardedCaches).toEqual([`one@${next.digest}`]);
  });
});
