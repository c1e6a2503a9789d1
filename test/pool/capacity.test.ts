import { describe, expect, it } from 'vitest';
import { Capacity } from '../../src/pool/capacity.ts';
import { PooledContainer, type PoolFunction } from '../../src/pool/pooled-container.ts';
import { FakeContainer, FakeRuntime, fakeFunction } from './fake-runtime.ts';

const runtime = new FakeRuntime();

/** A started container of `fn` held by `capacity`, last used at `idleSince`, with `inFlight` invocations. */
function held(capacity: Capacity, fn: PoolFunction, o: { idleSince?: number; inFlight?: number } = {}): PooledContainer {
  const id = `${fn.name}-v${fn.version}-${Math.random().toString(36).slice(2, 8)}`;
  const pooled = new PooledContainer(id, fn, 0);
  pooled.container = new FakeContainer(id, { id, layerDirs: [], memoryMb: fn.config.memoryMb, env: {}, hostname: fn.name, functionName: fn.name, version: fn.version }, runtime);
  pooled.idleSince = o.idleSince ?? 0;
  pooled.inFlight = o.inFlight ?? 0;
  capacity.add(pooled);
  return pooled;
}

const a = fakeFunction('a', { memoryMb: 128 });
const b = fakeFunction('b', { memoryMb: 128 });
const c = fakeFunction('c', { memoryMb: 128 });
const big = fakeFunction('big', { memoryMb: 256 });

describe('global limits', () => {
  it('counts containers against HEARTH_MAX_CONTAINERS and memoryMb against the budget', () => {
    const byCount = new Capacity({ maxContainers: 2 });
    held(byCount, a);
    expect(byCount.fits(128)).toBe(true);
    held(byCount, b);
    expect(byCount.fits(128)).toBe(false);
    expect(byCount.fits(128, 1, 128)).toBe(true);

    const byMemory = new Capacity({ memoryBudgetMb: 384 });
    held(byMemory, a);
    held(byMemory, b);
    expect(byMemory.fits(128)).toBe(true);
    expect(byMemory.fits(256)).toBe(false);
    expect(byMemory.usage()).toEqual({ count: 2, memoryMb: 256 });
  });

  it('without limits everything fits', () => {
    const capacity = new Capacity({});
    for (let i = 0; i < 50; i++) held(capacity, a);
    expect(capacity.fits(8192)).toBe(true);
  });

  it('a destroyed container counts until it is gone, so its memory is not handed out twice', () => {
    const capacity = new Capacity({ memoryBudgetMb: 256 });
    const doomed = held(capacity, a);
    held(capacity, b);
    expect(capacity.removeDying(doomed)).toBe(true);
    expect(capacity.containersOf('a')).toEqual([]);
    expect(capacity.fits(128)).toBe(false);
    expect(capacity.usage()).toEqual({ count: 2, memoryMb: 256 });
    capacity.gone(doomed);
    expect(capacity.fits(128)).toBe(true);
  });
});

describe('eviction choice', () => {
  it('chooses the least recently used idle container of another function, and only as many as needed', () => {
    const capacity = new Capacity({ memoryBudgetMb: 384 });
    const recent = held(capacity, a, { idleSince: 3000 });
    const oldest = held(capacity, b, { idleSince: 1000 });
    const middle = held(capacity, c, { idleSince: 2000 });
    expect(capacity.evictionVictims(fakeFunction('d', { memoryMb: 128 }))).toEqual([oldest]);
    expect(capacity.evictionVictims(big)).toEqual([oldest, middle]);
    // A decision only: nothing was removed or destroyed.
    expect(capacity.all()).toHaveLength(3);
    expect(recent.container!.alive && oldest.container!.alive).toBe(true);
  });

  it('evicts nothing when it fits already', () => {
    const capacity = new Capacity({ memoryBudgetMb: 1024 });
    held(capacity, b);
    expect(capacity.evictionVictims(a)).toEqual([]);
  });

  it('never chooses busy containers or idle ones of the same function version, and evicts nothing if that is not enough', () => {
    const capacity = new Capacity({ memoryBudgetMb: 384 });
    held(capacity, a, { idleSince: 1 }); // the caller's own function, current version
    held(capacity, b, { inFlight: 1, idleSince: 0 }); // busy
    const idle = held(capacity, c, { idleSince: 5 });
    expect(capacity.evictionVictims(fakeFunction('a', { memoryMb: 128 }))).toEqual([idle]);
    // 256 MB would need the busy one or a's own container as well: evict nothing.
    expect(capacity.evictionVictims(fakeFunction('a', { memoryMb: 256 }))).toBeUndefined();
  });

  it('an idle container of an older version, or a retiring one, is a candidate', () => {
    const capacity = new Capacity({ maxContainers: 2 });
    const old = held(capacity, fakeFunction('a', { memoryMb: 128 }, 1), { idleSince: 9 });
    const retiring = held(capacity, a, { idleSince: 10 });
    retiring.retiring = true;
    const v2 = fakeFunction('a', { memoryMb: 128 }, 2);
    expect(capacity.evictionVictims(v2)).toEqual([old]);
    capacity.remove(old);
    held(capacity, v2, { idleSince: 1 });
    expect(capacity.evictionVictims(v2)).toEqual([retiring]);
  });

  it('a starting container (no container yet) is never a candidate', () => {
    const capacity = new Capacity({ maxContainers: 1 });
    const starting = new PooledContainer('b-starting', b, 0);
    capacity.add(starting);
    expect(capacity.evictionVictims(a)).toBeUndefined();
  });
});

describe('warm choice', () => {
  it('takes the most recently used container of the same version with a free slot', () => {
    const capacity = new Capacity({});
    const two = fakeFunction('a', { concurrency: 2 });
    held(capacity, two, { idleSince: 1 });
    const recent = held(capacity, two, { idleSince: 5 });
    held(capacity, fakeFunction('a', { concurrency: 2 }, 2), { idleSince: 9 });
    expect(capacity.findWarm(two)).toBe(recent);
    recent.inFlight = 2;
    expect(capacity.findWarm(two)).not.toBe(recent);
    recent.inFlight = 0;
    recent.retiring = true;
    expect(capacity.findWarm(two)).not.toBe(recent);
  });

  it('counts live containers per function across versions, not retiring ones', () => {
    const capacity = new Capacity({});
    held(capacity, a);
    held(capacity, fakeFunction('a', {}, 2));
    held(capacity, a).retiring = true;
    expect(capacity.liveCount('a')).toBe(2);
    expect(capacity.staleIdle(fakeFunction('a', {}, 2))?.fn.version).toBe(1);
  });
});
