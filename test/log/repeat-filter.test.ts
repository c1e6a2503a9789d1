import { describe, expect, it } from 'vitest';
import { RepeatFilter } from '../../src/log/repeat-filter.ts';

describe('RepeatFilter', () => {
  it('writes a repeating warning once per quiet period, saying how often it was left out', () => {
    let now = 0;
    const lines: { message: string; fields: Record<string, unknown> }[] = [];
    const repeats = new RepeatFilter((message, fields) => lines.push({ message, fields }), 30_000, () => now);
    // Redis full: the same fault every second, its counts and ids changing.
    for (let s = 0; s < 65; s++) {
      now = s * 1000;
      repeats.warn(`writing ${s % 3 + 1} invocation records failed: OOM command not allowed`, { component: 'records' });
    }
    expect(lines.map((l) => [l.message, l.fields.repeats])).toEqual([
      ['writing 1 invocation records failed: OOM command not allowed', undefined],
      ['writing 1 invocation records failed: OOM command not allowed', 29],
      ['writing 1 invocation records failed: OOM command not allowed', 29],
    ]);
  });

  it('keeps different warnings apart: another text, another function, another error', () => {
    let now = 0;
    const lines: string[] = [];
    const repeats = new RepeatFilter((message, fields) => lines.push(`${message} / ${String(fields.err)}`), 30_000, () => now);
    repeats.warn('fetching from echo failed', { err: 'OOM' });
    repeats.warn('fetching from web failed', { err: 'OOM' });
    repeats.warn('fetching from echo failed', { err: 'Connection is closed.' });
    repeats.warn('fetching from echo failed', { err: 'OOM' });
    now = 31_000;
    repeats.warn('fetching from echo failed', { err: 'OOM' });
    expect(lines).toEqual([
      'fetching from echo failed / OOM',
      'fetching from web failed / OOM',
      'fetching from echo failed / Connection is closed.',
      'fetching from echo failed / OOM',
    ]);
  });
});
