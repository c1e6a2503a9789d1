import { createReadStream } from 'node:fs';
import type { StoredImage } from '../types.ts';
import type { RegistryClient } from './client.ts';

export interface PushReport {
  repository: string;
  uploadedBlobs: number;
  uploadedBytes: number;
  mountedBlobs: number;
  skippedBlobs: number;
  pushMs: number;
}

/**
 * Pushes a stored image to `repository`: each blob the registry lacks is mounted from a
 * repository that already holds it (the shared base layer: pushed once per registry, not once
 * per function) or uploaded after a local digest check; then the manifest by digest and under
 * each tag. `knownAt` remembers, per blob digest, a repository it was last seen in.
 */
export async function pushImage(
  client: RegistryClient,
  image: StoredImage,
  repository: string,
  opts: { tags?: string[]; knownAt?: Map<string, string>; verifyBlob?: (digest: string) => Promise<void> } = {},
): Promise<PushReport> {
  const started = performance.now();
  const report: PushReport = { repository, uploadedBlobs: 0, uploadedBytes: 0, mountedBlobs: 0, skippedBlobs: 0, pushMs: 0 };
  for (const blob of image.blobs) {
    if (await client.hasBlob(repository, blob.digest)) {
      report.skippedBlobs++;
    } else {
      const from = opts.knownAt?.get(blob.digest);
      // A corrupt local blob must not leave this host (the registry would refuse it too, later).
      if (!from) await opts.verifyBlob?.(blob.digest);
      const how = await client.pushBlob(
        repository,
        { digest: blob.digest, size: blob.size, open: () => createReadStream(image.path(blob.digest), { highWaterMark: 1 << 20 }) },
        from !== undefined && from !== repository ? from : undefined,
      );
      if (how === 'mounted') report.mountedBlobs++;
      else {
        report.uploadedBlobs++;
        report.uploadedBytes += blob.size;
      }
    }
    opts.knownAt?.set(blob.digest, repository);
  }
  await client.putManifest(repository, image.digest, image.manifestBytes, image.mediaType);
  for (const tag of opts.tags ?? []) await client.putManifest(repository, tag, image.manifestBytes, image.mediaType);
  report.pushMs = Math.round(performance.now() - started);
  return report;
}
