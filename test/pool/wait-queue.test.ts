import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Pool, PoolTimeoutError } from '../../src/pool/index.ts';
import { WaitQueue } from '../../src/pool/wait-queue.ts';
import { FakeRuntime, Gate, fakeFunction, fakeLayerDirs, request } from './fake-runtime.ts';

const a = fakeFunction('a');
const b = fakeFunction('b');

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('WaitQueue', () => {
  it('serves oldest first and skips a waiter that cannot proceed without losing its place', async () => {
    const queue = new WaitQueue<string>();
    const served: string[] = [];
    const first = queue.wait(a, Date.now() + 1000).then((l) => served.push(`a1:${l}`));
    const second = queue.wait(b, Date.now() + 1000).then((l) => served.push(`b:${l}`));
    const third = queue.wait(a, Date.now() + 1000).then((l) => served.push(`a2:${l}`));

    const asked: string[] = [];
    queue.serve((fn) => {
      asked.push(fn.name);
      return fn.name === 'b' ? Promise.resolve('lease-b') : undefined;
    });
    await second;
    expect(asked).toEqual(['a', 'b', 'a']);
    expect(served).toEqual(['b:lease-b']);
    expect(queue.size).toBe(2);

    queue.serve((fn) => Promise.resolve(`lease-${fn.name}`));
    await Promise.all([first, third]);
    expect(served).toEqual(['b:lease-b', 'a1:lease-a', 'a2:lease-a']);
    expect(queue.size).toBe(0);
  });

  it('rejects a waiter with PoolTimeoutError at its deadline and forgets it', async () => {
    const queue = new WaitQueue<string>();
    const waiting = queue.wait(a, Date.now() + 500);
    const outcome = waiting.then(
      () => 'served',
      (err: unknown) => err,
    );
    await vi.advanceTimersByTimeAsync(499);
    expect(queue.size).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(await outcome).toBeInstanceOf(PoolTimeoutError);
    expect(queue.size).toBe(0);
    // A later serve does not offer capacity to it.
    const tryLease = vi.fn(() => Promise.resolve('x'));
    queue.serve(tryLease);
    expect(tryLease).not.toHaveBeenCalled();
  });

  it('a served waiter never times out afterwards', async () => {
    const queue = new WaitQueue<string>();
    const waiting = queue.wait(a, Date.now() + 100);
    queue.serve(() => Promise.resolve('lease'));
    await vi.advanceTimersByTimeAsync(1000);
    await expect(waiting).resolves.toBe('lease');
  });

  it('rejects the waiters of a removed function only, and every waiter when drained', async () => {
    const queue = new WaitQueue<string>();
    const ofA = queue.wait(a, Date.now() + 1000);
    const ofB = queue.wait(b, Date.now() + 1000);
    queue.rejectFunction('a', new Error('function a was removed'));
    await expect(ofA).rejects.toThrow('function a was removed');
    expect(queue.size).toBe(1);
    queue.drain(new Error('the pool is shutting down'));
    await expect(ofB).rejects.toThrow('the pool is shutting down');
    expect(queue.size).toBe(0);
  });
});

describe('waiting for a container in the pool', () => {
  let pool: Pool | undefined;
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
  });

  it('a caller waits while its function is at maxContainers and is served by the container that frees', async () => {
    const runtime = new FakeRuntime();
    pool = new Pool({ runtime, layerDirs: fakeLayerDirs });
    const one = fakeFunction('one', { maxContainers: 1 });
    const hold = new Gate();
    const first = pool.run(one, request(10_000, hold.promise));
    const second = pool.run(one, request(10_000));
    await vi.advanceTimersByTimeAsync(0);
    expect((await pool.describe()).limits.waiting).toBe(1);
    expect(runtime.live('one')).toHaveLength(1);

    hold.open();
    const [r1, r2] = await Promise.all([first, second]);
    expect(r1.coldStart).toBe(true);
    expect(r2).toMatchObject({ coldStart: false, containerId: r1.containerId, outcome: { ok: true } });
    expect(runtime.created.filter((c) => c.options.functionName === 'one')).toHaveLength(1);
  });

  it("a waiter of a function at its maxContainers does not block another function's waiter behind it", async () => {
    const runtime = new FakeRuntime();
    pool = new Pool({ runtime, layerDirs: fakeLayerDirs, maxContainers: 2 });
    const capped = fakeFunction('capped', { maxContainers: 1 });
    const holdCapped = new Gate();
    const holdOther = new Gate();
    const cappedFirst = pool.run(capped, request(10_000, holdCapped.promise));
    const other = pool.run(b, request(10_000, holdOther.promise));
    await vi.advanceTimersByTimeAsync(0);
    // Global limit reached. The capped function's waiter arrives first, then c's.
    const cappedSecond = pool.run(capped, request(10_000));
    const c = pool.run(fakeFunction('c'), request(10_000));
    await vi.advanceTimersByTimeAsync(0);
    expect((await pool.describe()).limits.waiting).toBe(2);

    // b's container goes idle: c (evicting it) can proceed, capped cannot (its container is busy).
    holdOther.open();
    await other;
    const served = await c;
    expect(served).toMatchObject({ coldStart: true, outcome: { ok: true } });
    expect((await pool.describe()).limits.waiting).toBe(1);

    holdCapped.open();
    expect((await cappedSecond).outcome.ok).toBe(true);
    await cappedFirst;
  });

  it("the deadline passing while waiting ends the invocation as 'timeout' and gives up its place", async () => {
    const runtime = new FakeRuntime();
    pool = new Pool({ runtime, layerDirs: fakeLayerDirs, maxContainers: 1 });
    const hold = new Gate();
    const busy = pool.run(a, request(60_000, hold.promise));
    const late = pool.run(b, request(1000));
    await vi.advanceTimersByTimeAsync(1000);
    const result = await late;
    expect(result).toMatchObject({ coldStart: false, containerId: null, outcome: { ok: false, error: { code: 'timeout' } } });
    expect((await pool.describe()).limits.waiting).toBe(0);
    hold.open();
    await busy;
    // The timed-out caller did not start anything afterwards.
    expect(runtime.created.filter((c) => c.options.functionName === 'b')).toHaveLength(0);
  });

  it('removing a function ends its waiters; closing the pool ends every waiter', async () => {
    const runtime = new FakeRuntime();
    pool = new Pool({ runtime, layerDirs: fakeLayerDirs, maxContainers: 1 });
    const hold = new Gate();
    const busy = pool.run(a, request(60_000, hold.promise));
    const ofB = pool.run(b, request(60_000));
    const ofC = pool.run(fakeFunction('c'), request(60_000));
    await vi.advanceTimersByTimeAsync(0);
    await pool.retire('b');
    expect((await ofB).outcome).toMatchObject({ ok: false, error: { code: 'function_error', message: 'function b was removed' } });
    await pool.close();
    expect((await ofC).outcome).toMatchObject({ ok: false, error: { code: 'internal' } });
    hold.open();
    await busy;
  });
});
