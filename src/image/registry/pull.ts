import type { ImageStore } from '../image-store.ts';
import { sha256Digest } from '../digest.ts';
import { CorruptContentError } from '../errors.ts';
import type { RegistryClient } from './client.ts';

export interface PullReport {
  digest: string;
  fetchedBytes: number;
  pullMs: number;
  unpin?: () => void;
}

/**
 * Pulls an image by digest into the store. The manifest must hash to the digest asked for
 * (whatever the registry's Docker-Content-Digest says), and every blob to its descriptor's
 * digest, else the pull fails and nothing is named: a tampered or corrupt image never runs.
 */
export async function pullImage(
  client: RegistryClient,
  store: ImageStore,
  name: string,
  repository: string,
  digest: string,
  opts: { pin?: boolean } = {},
): Promise<PullReport> {
  const started = performance.now();
  const manifest = await client.getManifest(repository, digest);
  const actual = sha256Digest(manifest.bytes);
  if (actual !== digest) {
    throw new CorruptContentError(digest, `registry ${client.location.host} sent a manifest for ${repository}@${digest} that hashes to ${actual}: refused`);
  }
  const imported = await store.importImage(name, digest, manifest.bytes, (d) => client.getBlob(repository, d.digest), opts);
  return {
    digest,
    fetchedBytes: imported.fetchedBytes + manifest.bytes.byteLength,
    pullMs: Math.round(performance.now() - started),
    ...(imported.unpin ? { unpin: imported.unpin } : {}),
  };
}
