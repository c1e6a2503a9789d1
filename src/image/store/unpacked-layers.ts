import path from 'node:path';
import { readdir } from 'node:fs/promises';
import { digestHex, isDigest } from '../digest.ts';
import { treeBytes } from '../gc.ts';
import type { LayerInfo } from '../types.ts';
import { unpackLayer } from '../unpack/unpack-layer.ts';
import type { ContentStore } from './content-store.ts';

/**
 * Layers unpacked once into `<dir>/<hex of diffId>` for overlayfs to stack. A dir appears only
 * when complete and never changes afterwards, so its size is measured once and cached;
 * concurrent requests for one layer share one extraction.
 */
export class UnpackedLayers {
  readonly dir: string;
  readonly #blobs: ContentStore;
  readonly #tmpDir: string;
  readonly #unpacking = new Map<string, Promise<string>>();
  /** diffId → bytes of its unpacked dir. */
  readonly #bytes = new Map<string, number>();

  /** `tmpDir` must be on the same filesystem as `dir` (a rename puts a layer in place). */
  constructor(dir: string, blobs: ContentStore, tmpDir: string) {
    this.dir = dir;
    this.#blobs = blobs;
    this.#tmpDir = tmpDir;
  }

  dirOf(diffId: string): string {
    return path.join(this.dir, digestHex(diffId));
  }

  /** The layer's unpacked dir, extracting it from its blob (digests checked) if it is not there yet. */
  unpack(layer: LayerInfo): Promise<string> {
    const target = this.dirOf(layer.diffId);
    let pending = this.#unpacking.get(layer.diffId);
    if (!pending) {
      pending = unpackLayer({
        blobPath: this.#blobs.path(layer.digest),
        mediaType: layer.mediaType,
        digest: layer.digest,
        diffId: layer.diffId,
        target,
        tmpDir: this.#tmpDir,
      })
        .then(() => target)
        .finally(() => this.#unpacking.delete(layer.diffId));
      this.#unpacking.set(layer.diffId, pending);
    }
    return pending;
  }

  /** Apparent bytes of an unpacked layer. */
  async bytes(diffId: string): Promise<number> {
    let bytes = this.#bytes.get(diffId);
    if (bytes === undefined) {
      bytes = await treeBytes(this.dirOf(diffId));
      this.#bytes.set(diffId, bytes);
    }
    return bytes;
  }

  /** Drops cached sizes of layers outside `kept` (a collection removed their dirs). */
  forgetAllBut(kept: ReadonlySet<string>): void {
    for (const diffId of [...this.#bytes.keys()]) if (!kept.has(diffId)) this.#bytes.delete(diffId);
  }

  /** Every unpacked layer and their total apparent bytes. */
  async usage(): Promise<{ layers: number; bytes: number }> {
    let bytes = 0;
    let layers = 0;
    for (const hex of await readdir(this.dir)) {
      const diffId = `sha256:${hex}`;
      if (!isDigest(diffId)) continue;
      bytes += await this.bytes(diffId).catch(() => 0);
      layers++;
    }
    return { layers, bytes };
  }
}
