/** Unit: the container's waits with a deadline (no runc). */
import { describe, expect, it } from 'vitest';
import { DeadlineWait } from '../../src/runtime/deadline.ts';
import { settlesWithin } from '../../src/time-bound/index.ts';

describe('DeadlineWait', () => {
  it('resolves when settled in time, and later settling changes nothing', async () => {
    const wait = new DeadlineWait(1000, () => new Error('too late'));
    expect(wait.pending).toBe(true);
    wait.resolve();
    wait.reject(new Error('ignored'));
    await expect(wait.promise).resolves.toBeUndefined();
    expect(wait.pending).toBe(false);
  });

  it('rejects with the timeout error when nobody settles it', async () => {
    const started = Date.now();
    const wait = new DeadlineWait(30, () => new Error('did not report ready'));
    await expect(wait.promise).rejects.toThrow('did not report ready');
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    expect(wait.pending).toBe(false);
    wait.resolve(); // after the deadline: a no-op, not a second settlement
  });

  it('passes on the first rejection and does not fire its timer afterwards', async () => {
    let timeouts = 0;
    const wait = new DeadlineWait(20, () => {
      timeouts++;
      return new Error('timeout');
    });
    wait.reject(new Error('init failed'));
    await expect(wait.promise).rejects.toThrow('init failed');
    await new Promise((r) => setTimeout(r, 40));
    expect(timeouts).toBe(0);
  });
});

describe('settlesWithin', () => {
  it('is true for a promise that settles in time, either way', async () => {
    expect(await settlesWithin(Promise.resolve(1), 50)).toBe(true);
    expect(await settlesWithin(Promise.reject(new Error('x')), 50)).toBe(true);
  });

  it('is false once the time runs out', async () => {
    expect(await settlesWithin(new Promise(() => {}), 20)).toBe(false);
  });
});
