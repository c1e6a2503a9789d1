import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { ShutdownSteps, handleStopSignals } from '../../src/lifecycle/index.ts';
import { settlesWithin } from '../../src/time-bound/index.ts';

const silent = pino({ level: 'silent' });
const never = new Promise<void>(() => undefined);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('settlesWithin', () => {
  it('says whether work settled in time, rejected work included', async () => {
    expect(await settlesWithin(sleep(5), 500)).toBe(true);
    expect(await settlesWithin(Promise.reject(new Error('x')), 500)).toBe(true);
    expect(await settlesWithin(never, 20)).toBe(false);
  });
});

describe('ShutdownSteps', () => {
  it('runs steps newest first, leaves an overrunning step behind and reports each', async () => {
    const steps = new ShutdownSteps();
    const order: string[] = [];
    steps.add('redis', async () => order.push('redis'));
    steps.add('stuck', () => never, 30);
    steps.add('broken', async () => {
      order.push('broken');
      throw new Error('boom');
    });
    steps.add('server', async () => order.push('server'));
    const started = Date.now();
    const reports = await steps.runAll(silent);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(order).toEqual(['server', 'broken', 'redis']);
    expect(reports.map((r) => [r.step, r.outcome])).toEqual([['server', 'done'], ['broken', 'failed'], ['stuck', 'timeout'], ['redis', 'done']]);
    expect(steps.pending).toBe(0);
  });
});

describe('handleStopSignals', () => {
  function harness(stop: () => Promise<void>, hardLimitMs = 5_000) {
    const exits: number[] = [];
    let forced = 0;
    const onSignal = handleStopSignals({
      stop,
      force: async () => {
        forced++;
      },
      hardLimitMs,
      log: silent,
      exit: (code) => exits.push(code),
      sameStopMs: 30,
    });
    process.removeListener('SIGTERM', onSignal);
    process.removeListener('SIGINT', onSignal);
    return { onSignal, exits, forced: () => forced };
  }

  it('exits 0 after an orderly stop', async () => {
    const h = harness(() => sleep(10));
    h.onSignal('SIGTERM');
    await sleep(50);
    expect(h.exits).toEqual([0]);
    expect(h.forced()).toBe(0);
  });

  it('a second signal forces the clean-up and exits 1 without waiting for the stop', async () => {
    const h = harness(() => never);
    h.onSignal('SIGTERM');
    await sleep(40);
    h.onSignal('SIGINT');
    await sleep(20);
    expect(h.forced()).toBe(1);
    expect(h.exits).toEqual([1]);
  });

  it('takes a repeat right after the first signal (npm forwarding the group\'s Ctrl-C) as the same request', async () => {
    const h = harness(() => sleep(60));
    h.onSignal('SIGINT');
    h.onSignal('SIGINT');
    await sleep(120);
    expect(h.forced()).toBe(0);
    expect(h.exits).toEqual([0]);
  });

  it('forces a stop that overruns its hard limit', async () => {
    const h = harness(() => never, 30);
    h.onSignal('SIGTERM');
    await sleep(100);
    expect(h.forced()).toBe(1);
    expect(h.exits).toEqual([1]);
  });
});
