import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Redis } from 'ioredis';
import { WarmDirectory } from '../../src/scheduler/warm-directory.ts';

/** What a node publishes, caught instead of sent: the directory's reading side is pure. */
function node(name: string) {
  const sent: string[] = [];
  const publisher = { publish: async (_channel: string, message: string) => void sent.push(message) } as unknown as Redis;
  return { directory: new WarmDirectory(publisher, 'p', name), sent };
}

describe('WarmDirectory', () => {
  afterEach(() => vi.useRealTimers());

  it('knows which other nodes live, with or without warm containers, until they leave or fall silent', async () => {
    vi.useFakeTimers();
    const a = node('a');
    const b = node('b');
    expect(a.directory.alone()).toBe(true);
    // b announces an empty warm set: it lives, though nothing of it is warm.
    await b.directory.announce(new Set());
    a.directory.heard(b.sent.at(-1)!);
    expect(a.directory.alone()).toBe(false);
    expect(a.directory.warmElsewhere('f')).toBe(false);
    await b.directory.announce(new Set(['f']));
    a.directory.heard(b.sent.at(-1)!);
    expect(a.directory.warmElsewhere('f')).toBe(true);
    // Its own announcements do not count.
    await a.directory.announce(new Set(['g']));
    a.directory.heard(a.sent.at(-1)!);
    expect(a.directory.warmElsewhere('g')).toBe(false);

    await b.directory.leave();
    a.directory.heard(b.sent.at(-1)!);
    expect([a.directory.alone(), a.directory.warmElsewhere('f')]).toEqual([true, false]);

    // A node that dies says nothing more: forgotten once its announcement's lifetime (3 repeats) passed.
    await b.directory.announce(new Set(['f']), true);
    a.directory.heard(b.sent.at(-1)!);
    vi.advanceTimersByTime(59_000);
    expect(a.directory.alone()).toBe(false);
    vi.advanceTimersByTime(2_000);
    expect([a.directory.alone(), a.directory.warmElsewhere('f')]).toEqual([true, false]);
  });
});
