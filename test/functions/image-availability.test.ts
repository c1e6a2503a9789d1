import { describe, expect, it } from 'vitest';
import { ImageAvailability } from '../../src/functions/index.ts';

const ref = { name: 'f', digest: 'sha256:abc', image: 'reg/f@sha256:abc' };

function fakeRegistry(answer: () => Promise<boolean>) {
  const asked: string[] = [];
  return { asked, has: (_name: string, digest: string) => (asked.push(digest), answer()) };
}

describe('whether a node can get an image', () => {
  it('yes when it is in the local store, without asking the registry', async () => {
    const registry = fakeRegistry(async () => false);
    const a = new ImageAvailability({ images: { has: async () => true }, registry });
    expect(await a.canGet(ref)).toBe(true);
    expect(registry.asked).toEqual([]);
  });

  it('no when it is not here and there is no registry', async () => {
    expect(await new ImageAvailability({ images: { has: async () => false }, registry: undefined }).canGet(ref)).toBe(false);
  });

  it('asks the registry once for a yes (images are immutable by digest)', async () => {
    const registry = fakeRegistry(async () => true);
    const a = new ImageAvailability({ images: { has: async () => false }, registry });
    expect(await a.canGet(ref)).toBe(true);
    expect(await a.canGet(ref)).toBe(true);
    expect(registry.asked).toEqual(['sha256:abc']);
  });

  it('trusts a no only briefly, and takes a registry that does not answer or fails as a no', async () => {
    let present = false;
    const registry = fakeRegistry(async () => present);
    const a = new ImageAvailability({ images: { has: async () => false }, registry, negativeTtlMs: 30 });
    expect(await a.canGet(ref)).toBe(false);
    present = true;
    expect(await a.canGet(ref)).toBe(false);
    await new Promise((r) => setTimeout(r, 40));
    expect(await a.canGet(ref)).toBe(true);

    const hanging = new ImageAvailability({ images: { has: async () => false }, registry: fakeRegistry(() => new Promise(() => undefined)), checkTimeoutMs: 20 });
    expect(await hanging.canGet(ref)).toBe(false);
    const failing = new ImageAvailability({ images: { has: async () => false }, registry: fakeRegistry(async () => { throw new Error('ECONNREFUSED'); }) });
    expect(await failing.canGet(ref)).toBe(false);
  });
});
