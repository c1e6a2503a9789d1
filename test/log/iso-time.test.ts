import { describe, expect, it } from 'vitest';
import { isoTime, pinoIsoTime } from '../../src/log/index.ts';

describe('isoTime', () => {
  it('gives each millisecond its own ISO string, also when remembered ones repeat or share a slot', () => {
    const t = Date.parse('2026-12-03T11:00:00.123Z');
    expect(isoTime(t)).toBe('2026-12-03T11:00:00.123Z');
    expect(isoTime(t)).toBe('2026-12-03T11:00:00.123Z');
    expect(isoTime(t + 1)).toBe('2026-12-03T11:00:00.124Z');
    expect(isoTime(t)).toBe('2026-12-03T11:00:00.123Z');
    // Same slot (32 ms apart), alternating: each still its own.
    expect(isoTime(t + 32)).toBe('2026-12-03T11:00:00.155Z');
    expect(isoTime(t)).toBe('2026-12-03T11:00:00.123Z');
    expect(isoTime(t + 32)).toBe('2026-12-03T11:00:00.155Z');
    expect(isoTime(0)).toBe('1970-01-01T00:00:00.000Z');
    expect(isoTime(-1)).toBe('1969-12-31T23:59:59.999Z');
  });

  it('matches toISOString for any time, and is never fooled by a fraction or NaN', () => {
    for (let i = 0; i < 2000; i++) {
      const ms = Math.floor(Math.random() * 4e12) - 1e12;
      expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    }
    const t = Date.parse('2026-12-03T11:00:00.123Z');
    expect(isoTime(t + 0.5)).toBe(new Date(t + 0.5).toISOString());
    expect(() => isoTime(NaN)).toThrow(RangeError);
  });

  it('gives pino the time field it expects', () => {
    expect(pinoIsoTime()).toMatch(/^,"time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"$/);
  });
});
