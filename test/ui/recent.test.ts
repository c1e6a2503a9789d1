import { describe, expect, it } from 'vitest';
import { RecentInvocations, percentile } from '../../src/metrics/index.ts';

const entry = (id: string, finishedAt: number, durationMs: number, ok = true) => ({
  id, function: 'f', version: 1, ok, outcome: ok ? 'success' : 'function_error', durationMs, queuedMs: 0, coldStart: false, finishedAt, logs: [],
});

describe('RecentInvocations (the dashboard data)', () => {
  it('computes nearest-rank percentiles', () => {
    expect(percentile([], 0.5)).toBeNull();
    expect(percentile([7], 0.99)).toBe(7);
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(hundred, 0.5)).toBe(50);
    expect(percentile(hundred, 0.99)).toBe(99);
  });

  it('buckets the last 15 minutes into 30 s buckets with count, errors, p50 and p99', () => {
    const now = 1_000_000_000_000;
    const recent = new RecentInvocations();
    recent.add(entry('old', now - 16 * 60_000, 1)); // outside the window
    for (let i = 1; i <= 10; i++) recent.add(entry(`a${i}`, now - 1000, i * 10, i !== 10));
    const stats = recent.stats(now);
    expect(stats).toHaveLength(30);
    expect(stats.reduce((n, b) => n + b.count, 0)).toBe(10);
    const last = stats.at(-1)!;
    expect(last).toMatchObject({ count: 10, errors: 1, p50: 50, p99: 100 });
    expect(stats[0]).toMatchObject({ count: 0, p50: null });
  });

  it('lists newest first, finds by id, and stays bounded', () => {
    const recent = new RecentInvocations();
    for (let i = 0; i < 25_000; i++) recent.add(entry(`i${i}`, i, 1));
    expect(recent.latest(2).map((e) => e.id)).toEqual(['i24999', 'i24998']);
    expect(recent.find('i24000')?.id).toBe('i24000');
    expect(recent.find('i0')).toBeUndefined();
  });

  it('keeps logs only for the newest invocations, with long lines cut', () => {
    const recent = new RecentInvocations();
    const chatty = (id: string) => ({ ...entry(id, 1, 1), logs: Array.from({ length: 500 }, () => ({ time: 1, stream: 'stdout', line: 'x'.repeat(5000) })) });
    for (let i = 0; i < 600; i++) recent.add(chatty(`c${i}`));
    const newest = recent.find('c599')!;
    expect(newest.logs).toHaveLength(200);
    expect(newest.logs[0]!.line.length).toBeLessThanOrEqual(2001);
    expect(recent.find('c0')!.logs).toEqual([]);
  });
});
