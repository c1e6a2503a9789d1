import type { FunctionCatalog } from '../catalog/index.ts';
import { CorruptContentError, type ImageStore } from '../image/index.ts';
import type { ImageRegistry } from './image-registry.ts';

/**
 * What the pool calls before a container starts: the image's unpacked layer dirs. When the
 * local store lacks the image (another Hearth on the same Redis deployed it, or a collection or
 * a corrupt blob took it) and a registry is configured, the image is pulled by digest first.
 */
export function imageResolver(deps: {
  images: ImageStore;
  catalog: FunctionCatalog;
  registry: ImageRegistry | undefined;
  log?: (msg: string) => void;
}): (digest: string) => Promise<string[]> {
  return async function resolveLayerDirs(digest: string): Promise<string[]> {
    if (!(await deps.images.has(digest))) {
      if (!deps.registry) throw new Error(`image ${digest} is not in the local store and no registry is configured (HEARTH_REGISTRY)`);
      const version = await deps.catalog.findByDigest(digest);
      if (!version) throw new Error(`image ${digest} is not in the local store and no function version names it`);
      const pulled = await deps.registry.pull(version.name, digest, version.image);
      deps.log?.(`pulled ${version.name} v${version.version} ${digest}: ${pulled.fetchedBytes} bytes in ${pulled.pullMs} ms`);
    }
    try {
      return await deps.images.layerDirs(digest);
    } catch (err) {
      // A layer blob that fails its digest while unpacking: never run it; fetch it again if we can.
      if (!deps.registry || !(err instanceof CorruptContentError)) throw err;
      const version = await deps.catalog.findByDigest(digest);
      if (!version) throw err;
      await deps.registry.pull(version.name, digest, version.image);
      return deps.images.layerDirs(digest);
    }
  };
}
