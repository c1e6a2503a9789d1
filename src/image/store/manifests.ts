import { parseImageConfig, parseManifest } from '../oci.ts';
import type { ImageConfig, ImageManifest } from '../oci.ts';
import type { LayerInfo } from '../types.ts';
import type { ContentStore } from './content-store.ts';

/** Reading an image's JSON blobs back: each is checked against its digest as it is read. */

export async function readManifest(blobs: ContentStore, digest: string): Promise<ImageManifest> {
  return parseManifest(JSON.parse((await blobs.read(digest)).toString('utf8')));
}

export async function readImageConfig(blobs: ContentStore, digest: string): Promise<ImageConfig> {
  return parseImageConfig(JSON.parse((await blobs.read(digest)).toString('utf8')));
}

/**
 * An image's layers, bottom-most first as in its manifest, each with the diffId its config
 * gives it (the manifest names the compressed blobs, the config the uncompressed tars).
 */
export async function imageLayers(blobs: ContentStore, manifestDigest: string): Promise<LayerInfo[]> {
  const manifest = await readManifest(blobs, manifestDigest);
  const diffIds = (await readImageConfig(blobs, manifest.config.digest)).rootfs.diff_ids;
  if (diffIds.length !== manifest.layers.length) {
    throw new Error(`image ${manifestDigest}: ${manifest.layers.length} layers but ${diffIds.length} diff_ids`);
  }
  return manifest.layers.map((l, i) => ({ digest: l.digest, diffId: diffIds[i], size: l.size, mediaType: l.mediaType }));
}
