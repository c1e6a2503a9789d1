import { rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { Descriptor } from '../oci.ts';
import { hashFile, type ContentStore } from './content-store.ts';

/** Where the bytes of a missing blob come from (a registry pull). */
export type BlobSource = (d: Descriptor) => Promise<Readable | AsyncIterable<Uint8Array>>;

/**
 * Makes every described blob present and intact: a stored blob is kept only if its bytes still
 * hash to its digest; a missing or damaged one is streamed from `fetchBlob` and refused unless
 * it hashes to its descriptor's digest and has its size. Returns the bytes fetched.
 */
export async function importBlobs(blobs: ContentStore, descriptors: readonly Descriptor[], fetchBlob: BlobSource): Promise<number> {
  let fetchedBytes = 0;
  for (const d of descriptors) {
    if ((await blobs.size(d.digest)) === d.size && (await hashFile(blobs.path(d.digest))) === d.digest) continue;
    await rm(blobs.path(d.digest), { force: true });
    const blob = await blobs.ingest(await fetchBlob(d), undefined, d.digest);
    if (blob.size !== d.size) throw new Error(`blob ${d.digest}: ${blob.size} bytes, the manifest says ${d.size}`);
    fetchedBytes += blob.size;
  }
  return fetchedBytes;
}
