import type { FunctionConfig } from '../../config/index.ts';
import { canonicalJson } from '../json.ts';
import { MEDIA_TYPE, functionImageConfig, functionManifest } from '../oci.ts';
import type { Descriptor } from '../oci.ts';
import type { ContentStore } from '../store/content-store.ts';
import type { LayerInfo } from '../types.ts';
import { functionLayerEntries, type FunctionBundle } from './function-layer.ts';
import { writeLayer } from './layer.ts';
import type { HostFile } from './source-host.ts';

export interface WrittenImage {
  /** The manifest blob: the image's identity. */
  manifest: Descriptor;
  configDigest: string;
  /** Bottom-most first, as in the manifest. */
  layers: [base: LayerInfo, fn: LayerInfo];
}

/**
 * Writes a function image's blobs: the function layer (bundle, config, files beside them) on top of the shared
 * base layer, the image config and the manifest, all as canonical JSON so the same inputs give
 * the same digests. It names nothing: the caller adds the manifest to the index once the image
 * is complete on disk.
 */
export async function writeFunctionImage(
  blobs: ContentStore,
  name: string,
  base: LayerInfo,
  bundle: FunctionBundle,
  config: FunctionConfig,
  files: readonly HostFile[] = [],
): Promise<WrittenImage> {
  const fn = await writeLayer(blobs, functionLayerEntries(name, bundle, config, files));
  const layers: WrittenImage['layers'] = [base, fn];
  const imageConfig = await blobs.put(Buffer.from(canonicalJson(functionImageConfig(name, layers.map((l) => l.diffId)))));
  const manifest = functionManifest(
    name,
    { mediaType: MEDIA_TYPE.config, digest: imageConfig.digest, size: imageConfig.size },
    layers.map((l): Descriptor => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  );
  const manifestBlob = await blobs.put(Buffer.from(canonicalJson(manifest)));
  return {
    manifest: { mediaType: MEDIA_TYPE.manifest, digest: manifestBlob.digest, size: manifestBlob.size },
    configDigest: imageConfig.digest,
    layers,
  };
}
