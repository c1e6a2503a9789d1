import { describe, expect, it } from 'vitest';
import { takeAt } from '../../src/scheduler/placement.ts';
import { warmthOf } from '../../src/scheduler/warmth.ts';

const at = 1_000_000;

describe('warm-aware placement', () => {
  it('takes a job at once where an idle warm container waits', () => {
    expect(takeAt({ warmHere: true, warmElsewhere: true, announcedAt: at, coldStartDelayMs: 25 })).toBe(at);
  });

  it('takes a job at once when no node has a warm container (a single node never waits)', () => {
    expect(takeAt({ warmHere: false, warmElsewhere: false, announcedAt: at, coldStartDelayMs: 25 })).toBe(at);
  });

  it('leaves a job to a node with a warm container for the cold-start delay', () => {
    expect(takeAt({ warmHere: false, warmElsewhere: true, announcedAt: at, coldStartDelayMs: 25 })).toBe(at + 25);
    expect(takeAt({ warmHere: false, warmElsewhere: true, announcedAt: at, coldStartDelayMs: 0 })).toBe(at);
  });
});

describe('warmth of a pool', () => {
  it('counts started containers that take work; idle only when one has nothing in flight', () => {
    const w = warmthOf([
      { function: 'a', state: 'idle', retiring: false },
      { function: 'b', state: 'busy', retiring: false },
      { function: 'c', state: 'starting', retiring: false },
      { function: 'd', state: 'idle', retiring: true },
    ]);
    expect([...w.warm].sort()).toEqual(['a', 'b']);
    expect([...w.idle]).toEqual(['a']);
  });
});

describe('what a pool runs of each function', () => {
  it('counts invocations in flight per function, starting and retiring containers included', () => {
    const w = warmthOf([
      { function: 'a', state: 'busy', retiring: false, inFlight: 2 },
      { function: 'a', state: 'busy', retiring: true, inFlight: 1 },
      { function: 'b', state: 'idle', retiring: false, inFlight: 0 },
    ]);
    expect([...w.inFlight]).toEqual([['a', 3]]);
  });
});
