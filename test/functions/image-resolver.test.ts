import { describe, expect, it } from 'vitest';
import { imageResolver } from '../../src/functions/image-resolver.ts';
import type { FunctionCatalog } from '../../src/catalog/index.ts';
import type { ImageStore } from '../../src/image/index.ts';

const DIGEST = `sha256:${'a'.repeat(64)}`;

/** The three store calls the resolver makes, answered from `state`, and counted. */
function storeOf(state: { known?: string[]; has: boolean; dirs: string[] }) {
  const calls: string[] = [];
  const images = {
    knownLayerDirs: async () => (calls.push('knownLayerDirs'), state.known),
    has: async () => (calls.push('has'), state.has),
    layerDirs: async () => (calls.push('layerDirs'), state.dirs),
  };
  return { images: images as unknown as ImageStore, calls };
}

const catalog = {} as FunctionCatalog;

describe('imageResolver', () => {
  it('an image whose layer dirs are in place: no manifest read, no blob check', async () => {
    const { images, calls } = storeOf({ known: ['/l/fn', '/l/base'], has: true, dirs: [] });
    expect(await imageResolver({ images, catalog, registry: undefined })(DIGEST)).toEqual(['/l/fn', '/l/base']);
    expect(calls).toEqual(['knownLayerDirs']);
  });

  it('otherwise checks the store, then unpacks', async () => {
    const { images, calls } = storeOf({ has: true, dirs: ['/l/fn', '/l/base'] });
    expect(await imageResolver({ images, catalog, registry: undefined })(DIGEST)).toEqual(['/l/fn', '/l/base']);
    expect(calls).toEqual(['knownLayerDirs', 'has', 'layerDirs']);
  });

  it('an image not in the store and no registry: image_unavailable', async () => {
    const { images } = storeOf({ has: false, dirs: [] });
    await expect(imageResolver({ images, catalog, registry: undefined })(DIGEST)).rejects.toMatchObject({ code: 'image_unavailable' });
  });
});
