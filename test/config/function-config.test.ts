import { describe, expect, it } from 'vitest';
import { parseFunctionConfig, functionName, SCHEDULE_ID } from '../../src/config/index.ts';

describe('function config', () => {
  it('applies the documented defaults', () => {
    expect(parseFunctionConfig({})).toEqual({
      memoryMb: 128,
      timeoutMs: 30_000,
      concurrency: 1,
      minWarm: 0,
      maxContainers: 10,
      idleTimeoutMs: 60_000,
      maxQueued: 1000,
      env: {},
      schedules: [],
      network: 'none',
      retries: { attempts: 0, backoffMs: 1000 },
    });
  });

  it('rejects unknown keys so typos do not fall back to defaults', () => {
    expect(() => parseFunctionConfig({ memoryMB: 256 })).toThrow(/memoryMB/);
  });

  it('rejects out-of-range limits and bad env names', () => {
    expect(() => parseFunctionConfig({ memoryMb: 1 })).toThrow();
    expect(() => parseFunctionConfig({ timeoutMs: -5 })).toThrow();
    expect(() => parseFunctionConfig({ env: { 'BAD-NAME': 'x' } })).toThrow();
    expect(() => parseFunctionConfig({ network: 'host' })).toThrow();
  });

  it('takes schedule ids that are safe inside job ids only, the same rule the schedules API applies', () => {
    for (const ok of ['a', 'b_2', 'Nightly-Run', 'x'.repeat(64)]) {
      expect(SCHEDULE_ID.test(ok), ok).toBe(true);
      expect(() => parseFunctionConfig({ schedules: [{ id: ok, cron: '* * * * *' }] }), ok).not.toThrow();
    }
    for (const bad of ['', 'a b', 'a:b', 'a.b', 'x'.repeat(65)]) {
      expect(SCHEDULE_ID.test(bad), bad).toBe(false);
      expect(() => parseFunctionConfig({ schedules: [{ id: bad, cron: '* * * * *' }] }), bad).toThrow();
    }
  });

  it('accepts names that are safe as paths, queue names and Redis keys only', () => {
    for (const ok of ['hello', 'a', 'my-fn-2']) expect(functionName.safeParse(ok).success).toBe(true);
    for (const bad of ['', 'Hello', '../etc', 'a/b', 'a:b', '-x', '1abc', 'x'.repeat(64), 'a b']) {
      expect(functionName.safeParse(bad).success, bad).toBe(false);
    }
  });
});
