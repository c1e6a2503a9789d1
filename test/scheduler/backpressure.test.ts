import { describe, expect, it } from 'vitest';
import { Backpressure, queueSeenEmpty } from '../../src/scheduler/backpressure.ts';
import type { InvocationProducer } from '../../src/scheduler/producer.ts';

/** A producer whose queue count is whatever the test says, counting how often it was asked. */
function fakeProducer(count: () => number): { producer: InvocationProducer; counts: () => number } {
  let asked = 0;
  const queue = { count: async () => (asked++, count()) };
  return { producer: { queue: () => queue } as unknown as InvocationProducer, counts: () => asked };
}

describe('the direct-dispatch decision', () => {
  it('skips the queue only on a fresh, zero count with nothing queued from here since', () => {
    const now = 10_000;
    expect(queueSeenEmpty(undefined, now)).toBe(false);
    expect(queueSeenEmpty({ count: 0, at: now - 10, since: 3, queuedSince: 0 }, now)).toBe(true);
    expect(queueSeenEmpty({ count: 1, at: now - 10, since: 3, queuedSince: 0 }, now)).toBe(false);
    expect(queueSeenEmpty({ count: 0, at: now - 10, since: 3, queuedSince: 1 }, now)).toBe(false);
    // A stale count may miss other processes' submissions.
    expect(queueSeenEmpty({ count: 0, at: now - 1000, since: 0, queuedSince: 0 }, now)).toBe(false);
  });

  it('async submissions count as queued; a sync call that went to the queue stops counting once it left', async () => {
    let count = 0;
    const { producer, counts } = fakeProducer(() => count);
    const bp = new Backpressure(producer);
    await bp.admit('f', 100, { mayRunDirect: true });
    expect(bp.queueSeenEmpty('f')).toBe(true);

    const left = bp.queued('f');
    expect(bp.queueSeenEmpty('f')).toBe(false);
    left();
    left(); // only once
    expect(bp.queueSeenEmpty('f')).toBe(true);

    await bp.admit('f', 100); // an async submission
    expect(bp.queueSeenEmpty('f')).toBe(false);
    // Fresh counts come from the cache: one Redis count so far.
    expect(counts()).toBe(1);
  });

  it('still refuses with 429 at maxQueued, direct-capable or not', async () => {
    const { producer } = fakeProducer(() => 5);
    const bp = new Backpressure(producer);
    await expect(bp.admit('f', 5, { mayRunDirect: true })).rejects.toMatchObject({ code: 'overloaded' });
    expect(bp.queueSeenEmpty('f')).toBe(false);
  });
});
