import type { FunctionCatalog } from '../catalog/index.ts';
import { HearthError } from '../errors/index.ts';
import { CorruptContentError, type ImageStore } from '../image/index.ts';
import type { ImageRegistry } from './image-registry.ts';

/** The image cannot be had on this node: an infrastructure failure, whatever the function's code is. */
function unavailable(digest: string, why: string): HearthError {
  return new HearthError('image_unavailable', `image ${digest} is not available on this node: ${why}`);
}

/**
 * What the pool calls before a container starts: the image's unpacked layer dirs. When the
 * local store lacks the image (another Hearth on the same Redis deployed it, or a collection or
 * a corrupt blob took it) and a registry is configured, the image is pulled by digest first
 * (the pull checks every byte against its digest). An image that cannot be had fails with
 * `image_unavailable`, never as the function's error.
 */
export function imageResolver(deps: {
  images: ImageStore;
  catalog: FunctionCatalog;
  registry: ImageRegistry | undefined;
  log?: (msg: string) => void;
}): (digest: string) => Promise<string[]> {
  async function pull(digest: string): Promise<void> {
    if (!deps.registry) throw unavailable(digest, 'it is not in the local store and no registry is configured (HEARTH_REGISTRY)');
    const version = await deps.catalog.findByDigest(digest);
    if (!version) throw unavailable(digest, 'it is not in the local store and no function version names it');
    try {
      const pulled = await deps.registry.pull(version.name, digest, version.image);
      deps.log?.(`pulled ${version.name} v${version.version} ${digest}: ${pulled.fetchedBytes} bytes in ${pulled.pullMs} ms`);
    } catch (err) {
      throw unavailable(digest, `the pull from ${deps.registry.location.host} failed: ${(err as Error).message}`);
    }
  }

  return async function resolveLayerDirs(digest: string): Promise<string[]> {
    // Every cold start asks: an image whose layers are in place needs no look at its blobs.
    const known = await deps.images.knownLayerDirs(digest);
    if (known) return known;
    if (!(await deps.images.has(digest))) await pull(digest);
    try {
      return await deps.images.layerDirs(digest);
    } catch (err) {
      // A layer blob that fails its digest while unpacking: never run it; fetch it again if we can.
      if (!deps.registry || !(err instanceof CorruptContentError)) throw err;
      await pull(digest);
      return deps.images.layerDirs(digest);
    }
  };
}
