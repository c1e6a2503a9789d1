/**
 * A container's rootfs: a read-only overlay of the image's unpacked layer dirs. No upperdir, so
 * nothing a container does reaches the layers, and one page cache serves every container of an
 * image. Writes go to the tmpfs mounts in the spec (/tmp, /run, /dev/shm).
 */
import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runChecked, runCommand, type CommandRunner } from './command.ts';
import { readMountInfo } from './mountinfo.ts';

export interface OverlayOptions {
  /** Layer dirs, top-most first (overlay's lowerdir order). */
  layerDirs: string[];
  target: string;
  /** An empty dir to pad a single layer with: a read-only overlay needs at least two lowerdirs. */
  emptyDir: string;
  /** Runs `mount` (the runtime's process spawner); here when omitted. */
  run?: CommandRunner;
}

/**
 * Where a container's rootfs is mounted: beside the runc state dir, not in the bundle. With a user
 * namespace, runc sets the rootfs up as the container's root, which has no privilege over host
 * dirs: every dir on the way must be searchable by others, and a data dir (often 0700) is not.
 */
export function rootfsBase(runcRoot: string): string {
  return `${runcRoot}.rootfs`;
}

export function rootfsDir(runcRoot: string, id: string): string {
  return join(rootfsBase(runcRoot), id);
}

/** Creates the mount point with search-only (0711) dirs from the runc root's parent down. */
export async function makeRootfsMountPoint(runcRoot: string, id: string): Promise<string> {
  const base = rootfsBase(runcRoot);
  const parent = join(base, '..');
  await mkdir(parent, { recursive: true, mode: 0o711 });
  await chmod(parent, 0o711);
  await mkdir(base, { recursive: true, mode: 0o711 });
  const dir = rootfsDir(runcRoot, id);
  await mkdir(dir, { mode: 0o711 });
  return dir;
}

export async function mountOverlay(o: OverlayOptions): Promise<void> {
  if (o.layerDirs.length === 0) throw new Error('no layer dirs');
  const lower = o.layerDirs.length === 1 ? [...o.layerDirs, o.emptyDir] : o.layerDirs;
  for (const d of lower) {
    // ':' separates lowerdirs and ',' separates mount options: such a path would be misparsed.
    if (!d.startsWith('/') || /[:,\n]/.test(d)) throw new Error(`unusable layer dir path ${JSON.stringify(d)}`);
  }
  await mkdir(o.target, { recursive: true });
  // ro: lowerdirs only are read-only anyway; saying so keeps the mount read-only in every namespace.
  await runChecked('mount', ['-t', 'overlay', 'overlay', '-o', `ro,lowerdir=${lower.join(':')}`, o.target], undefined, o.run);
}

/** Unmounts; a busy mount is detached lazily. Not mounted is fine. */
export async function unmount(target: string, run: CommandRunner = runCommand): Promise<void> {
  if (!(await isMountPoint(target))) return;
  const r = await run('umount', [target]);
  if (r.code === 0) return;
  if (!(await isMountPoint(target))) return;
  await runChecked('umount', ['-l', target], undefined, run);
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
