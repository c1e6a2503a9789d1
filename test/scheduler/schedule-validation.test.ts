import { describe, expect, it } from 'vitest';
import { invocationIdOf, validateSchedule } from '../../src/scheduler/index.ts';

describe('validateSchedule', () => {
  it('accepts 5- and 6-field crons with a time zone', () => {
    expect(() => validateSchedule({ id: 'a', cron: '0 3 * * *', tz: 'Europe/Berlin' })).not.toThrow();
    expect(() => validateSchedule({ id: 'b_2', cron: '*/2 * * * * *' })).not.toThrow();
  });

  it('rejects bad patterns, zones and ids', () => {
    expect(() => validateSchedule({ id: 'a', cron: 'every day' })).toThrow(/invalid cron/);
    expect(() => validateSchedule({ id: 'a', cron: '* * * * *', tz: 'Nowhere/City' })).toThrow(/invalid cron/);
    expect(() => validateSchedule({ id: 'a b', cron: '* * * * *' })).toThrow(/schedule id/);
  });
});

describe('invocationIdOf', () => {
  it('keeps a producer-given id and derives one per tick for schedule jobs', () => {
    const base = { id: 'x', timestamp: 5, opts: {} };
    expect(invocationIdOf({ ...base, data: { invocationId: 'given', function: 'f', event: null, enqueuedAt: 1 } })).toBe('given');
    const tick = { ...base, opts: { prevMillis: 1_700_000_000_000 }, data: { function: 'f-1', scheduleId: 's_1', event: null } };
    expect(invocationIdOf(tick as never)).toBe('sched.f-1.s_1.1700000000000');
  });
});
