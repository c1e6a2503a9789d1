import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Pool } from '../../src/pool/index.ts';
import { FakeRuntime, Gate, fakeFunction, fakeLayerDirs, request } from './fake-runtime.ts';

const REAP_MS = 100;
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

function startPool(limits: { maxContainers?: number; memoryBudgetMb?: number } = {}): Pool {
  pool = new Pool({ runtime, layerDirs: fakeLayerDirs, reapIntervalMs: REAP_MS, ...limits });
  pool.start();
  return pool;
}

const idleIds = (name: string): string[] => pool.snapshot().filter((e) => e.function === name && e.state === 'idle').map((e) => e.id);

describe('minWarm top-up', () => {
  it('starts minWarm containers when asked, and replaces one that died at the next tick', async () => {
    startPool();
    const warmed = fakeFunction('warmed', { minWarm: 2 });
    pool.keepWarm(warmed);
    await vi.advanceTimersByTimeAsync(0);
    expect(idleIds('warmed')).toHaveLength(2);

    runtime.live('warmed')[0]!.crash();
    await vi.advanceTimersByTimeAsync(0);
    expect(idleIds('warmed')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(REAP_MS);
    expect(idleIds('warmed')).toHaveLength(2);
    expect(runtime.created.filter((c) => c.options.functionName === 'warmed')).toHaveLength(3);

    // The first invoke is warm.
    expect((await pool.run(warmed, request())).coldStart).toBe(false);
  });

  it('never passes maxContainers of the function', async () => {
    startPool();
    pool.keepWarm(fakeFunction('capped', { minWarm: 5, maxContainers: 2 }));
    await vi.advanceTimersByTimeAsync(REAP_MS * 3);
    expect(runtime.live('capped')).toHaveLength(2);
  });

  it('never evicts another function to top up, and tops up once room frees', async () => {
    startPool({ memoryBudgetMb: 256 });
    const other = fakeFunction('other', { memoryMb: 128, idleTimeoutMs: 1000 });
    const third = fakeFunction('third', { memoryMb: 128, idleTimeoutMs: 60_000 });
    await pool.run(other, request());
    await pool.run(third, request());
    pool.keepWarm(fakeFunction('warmed', { minWarm: 1, memoryMb: 128 }));
    await vi.advanceTimersByTimeAsync(REAP_MS * 2);
    expect(runtime.live('warmed')).toHaveLength(0);
    expect(runtime.live('other')).toHaveLength(1);
    expect(runtime.live('third')).toHaveLength(1);

    // other's idle timeout frees its 128 MB: the target is met then, with third untouched.
    await vi.advanceTimersByTimeAsync(1000);
    expect(runtime.live('other')).toHaveLength(0);
    expect(idleIds('warmed')).toHaveLength(1);
    expect(runtime.live('third')).toHaveLength(1);
  });

  it('a new version replaces the old target: minWarm 0 stops topping up', async () => {
    startPool();
    pool.keepWarm(fakeFunction('f', { minWarm: 1, idleTimeoutMs: 500 }, 1));
    await vi.advanceTimersByTimeAsync(0);
    pool.keepWarm(fakeFunction('f', { minWarm: 0, idleTimeoutMs: 500 }, 2));
    await pool.retire('f', 2);
    await vi.advanceTimersByTimeAsync(REAP_MS * 10);
    expect(runtime.live('f')).toHaveLength(0);
  });
});

describe('idle reaping', () => {
  it("reaps an idle container once it has idled for its function's idleTimeoutMs, not before", async () => {
    startPool();
    const fn = fakeFunction('idler', { idleTimeoutMs: 1000 });
    await pool.run(fn, request());
    const [container] = runtime.live('idler');
    await vi.advanceTimersByTimeAsync(1000 - REAP_MS);
    expect(container!.alive).toBe(true);
    await vi.advanceTimersByTimeAsync(REAP_MS);
    expect(container!.destroyReason).toBe('idle timeout');
    expect(pool.snapshot()).toEqual([]);
  });

  it('never reaps a busy container, however long it runs', async () => {
    startPool();
    const hold = new Gate();
    const running = pool.run(fakeFunction('slow', { idleTimeoutMs: 100 }), request(60_000, hold.promise));
    await vi.advanceTimersByTimeAsync(5000);
    expect(runtime.live('slow')).toHaveLength(1);
    hold.open();
    expect((await running).outcome.ok).toBe(true);
  });

  it('never reaps below minWarm, and keeps the most recently used ones', async () => {
    startPool();
    const fn = fakeFunction('kept', { minWarm: 1, idleTimeoutMs: 100 });
    pool.keepWarm(fn);
    await vi.advanceTimersByTimeAsync(0);
    // Scale out to three containers, then let them all go idle, the last one released last.
    const gates = [new Gate(), new Gate(), new Gate()];
    const runs = gates.map((g) => pool.run(fn, request(60_000, g.promise)));
    await vi.advanceTimersByTimeAsync(0);
    expect(runtime.live('kept')).toHaveLength(3);
    for (const g of gates) {
      g.open();
      await vi.advanceTimersByTimeAsync(10);
    }
    const results = await Promise.all(runs);
    const lastUsed = results[2]!.containerId;

    await vi.advanceTimersByTimeAsync(10_000);
    expect(runtime.live('kept').map((c) => c.id)).toEqual([lastUsed]);
    expect(idleIds('kept')).toEqual([lastUsed]);
  });

  it('reaps containers of an old version even when the function has a minWarm target', async () => {
    startPool();
    const v1 = fakeFunction('versions', { minWarm: 1, idleTimeoutMs: 100 }, 1);
    pool.keepWarm(v1);
    await vi.advanceTimersByTimeAsync(0);
    const [old] = runtime.live('versions');
    pool.keepWarm(fakeFunction('versions', { minWarm: 1, idleTimeoutMs: 100 }, 2));
    await vi.advanceTimersByTimeAsync(REAP_MS * 3);
    expect(old!.destroyReason).toBe('idle timeout');
    expect(pool.snapshot().map((e) => e.version)).toEqual([2]);
  });
});
