import { lstat, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { isDigest } from './digest.ts';
import type { ContentStore } from './store/content-store.ts';
import { readImageConfig, readManifest } from './store/manifests.ts';
import type { LayerInfo } from './types.ts';

/** What one collection did; `freedBytes` counts blob bytes and unpacked-layer bytes removed. */
export interface CollectionReport {
  keptImages: number;
  removedBlobs: number;
  removedLayers: number;
  removedImages: number;
  removedTemp: number;
  freedBytes: number;
  durationMs: number;
}

/** The marked set: everything reachable from the images to keep. */
export interface Reachable {
  blobs: Set<string>;
  /** diffIds of unpacked layers. */
  layers: Set<string>;
  images: Set<string>;
}

/**
 * Marks everything reachable from `roots` (manifest digests) and the runtime base layer: the
 * manifests present in the store, their configs, layer blobs and unpacked layers.
 */
export async function mark(blobs: ContentStore, roots: Iterable<string>, base: LayerInfo | undefined): Promise<Reachable> {
  const reach: Reachable = { blobs: new Set(), layers: new Set(), images: new Set() };
  if (base) {
    reach.blobs.add(base.digest);
    reach.layers.add(base.diffId);
  }
  for (const digest of roots) {
    if (!isDigest(digest) || !(await blobs.has(digest))) continue;
    reach.images.add(digest);
    reach.blobs.add(digest);
    try {
      const manifest = await readManifest(blobs, digest);
      reach.blobs.add(manifest.config.digest);
      for (const l of manifest.layers) reach.blobs.add(l.digest);
      const config = await readImageConfig(blobs, manifest.config.digest);
      for (const diffId of config.rootfs.diff_ids) reach.layers.add(diffId);
    } catch {
      // A corrupt manifest or config: keep what is named, the rest is fetched again on pull.
    }
  }
  return reach;
}

export interface SweepTarget {
  blobsDir: string;
  layersDir: string;
  tmpDir: string;
  /** Bytes of an unpacked layer dir (cached by the store: layers are immutable). */
  layerBytes: (diffId: string) => Promise<number>;
}

/**
 * Removes blobs and unpacked layers outside `reach`, and temp files whose writer is gone (a
 * crash mid-write). Runs while the store's gate is held exclusively, so nothing it removes can be
 * in the middle of being written or named.
 */
export async function sweep(target: SweepTarget, reach: Reachable): Promise<Omit<CollectionReport, 'keptImages' | 'removedImages' | 'durationMs'>> {
  let removedBlobs = 0;
  let removedLayers = 0;
  let removedTemp = 0;
  let freedBytes = 0;

  for (const hex of await listDir(target.blobsDir)) {
    const digest = `sha256:${hex}`;
    if (isDigest(digest) && reach.blobs.has(digest)) continue;
    const p = path.join(target.blobsDir, hex);
    freedBytes += (await lstat(p).catch(() => undefined))?.size ?? 0;
    await rm(p, { recursive: true, force: true });
    removedBlobs++;
  }
  for (const hex of await listDir(target.layersDir)) {
    const diffId = `sha256:${hex}`;
    if (isDigest(diffId) && reach.layers.has(diffId)) continue;
    freedBytes += await target.layerBytes(diffId).catch(() => 0);
    await rm(path.join(target.layersDir, hex), { recursive: true, force: true });
    removedLayers++;
  }
  for (const name of await listDir(target.tmpDir)) {
    if (!writerIsGone(name)) continue;
    await rm(path.join(target.tmpDir, name), { recursive: true, force: true });
    removedTemp++;
  }
  return { removedBlobs, removedLayers, removedTemp, freedBytes };
}

/**
 * Temp names carry the writer's pid (`blob-<pid>-<rand>`, see tempName). Ours are in progress;
 * another live process's may be too; a dead pid's are crash leftovers.
 */
export function writerIsGone(tempFile: string, alive: (pid: number) => boolean = pidAlive): boolean {
  const match = /^[^-]+-(\d+)-[0-9a-f]+$/.exec(tempFile);
  if (!match) return false;
  const pid = Number(match[1]);
  return pid !== process.pid && !alive(pid);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Apparent size of a directory tree (regular files and symlinks), without following links. */
export async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  for (const e of entries) {
    if (e.isDirectory()) continue;
    const st = await lstat(path.join(e.parentPath, e.name)).catch(() => undefined);
    if (st) total += st.size;
  }
  return total;
}
