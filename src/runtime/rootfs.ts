/**
 * A container's rootfs: a read-only overlay of the image's unpacked layer dirs. No upperdir, so
 * nothing a container does reaches the layers, and one page cache serves every container of an
 * image. Writes go to the tmpfs mounts in the spec (/tmp, /run, /dev/shm).
 */
import { mkdir } from 'node:fs/promises';
import { runChecked, runCommand } from './command.ts';
import { readMountInfo } from './mountinfo.ts';

export interface OverlayOptions {
  /** Layer dirs, top-most first (overlay's lowerdir order). */
  layerDirs: string[];
  target: string;
  /** An empty dir to pad a single layer with: a read-only overlay needs at least two lowerdirs. */
  emptyDir: string;
}

export async function mountOverlay(o: OverlayOptions): Promise<void> {
  if (o.layerDirs.length === 0) throw new Error('no layer dirs');
  const lower = o.layerDirs.length === 1 ? [...o.layerDirs, o.emptyDir] : o.layerDirs;
  for (const d of lower) {
    // ':' separates lowerdirs and ',' separates mount options: such a path would be misparsed.
    if (!d.startsWith('/') || /[:,\n]/.test(d)) throw new Error(`unusable layer dir path ${JSON.stringify(d)}`);
  }
  await mkdir(o.target, { recursive: true });
  await runChecked('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower.join(':')}`, o.target]);
}

/** Unmounts; a busy mount is detached lazily. Not mounted is fine. */
export async function unmount(target: string): Promise<void> {
  if (!(await isMountPoint(target))) return;
  const r = await runCommand('umount', [target]);
  if (r.code === 0) return;
  if (!(await isMountPoint(target))) return;
  await runChecked('umount', ['-l', target]);
}

/** Mount points in our mount namespace. */
export async function mountPoints(): Promise<string[]> {
  return (await readMountInfo()).map((m) => m.mountpoint);
}

export async function isMountPoint(path: string): Promise<boolean> {
  return (await mountPoints()).includes(path);
}

/** Mount points at or below dir, deepest first (the order to unmount them in). */
export async function mountsUnder(dir: string): Promise<string[]> {
  const prefix = dir.endsWith('/') ? dir : dir + '/';
  return (await mountPoints())
    .filter((p) => p === dir || p.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
}
