/**
 * A container's rootfs: a read-only overlay of the image's unpacked layer dirs. No upperdir, so
 * nothing a container does reaches the layers, and one page cache serves every container of an
 * image. Writes go to the tmpfs mounts in the spec (/tmp, /run, /dev/shm). runc mounts it, in the
 * container's own mount namespace (`withOverlayRoot`, lowerdirs from layer-binds.ts), on the
 * empty dir made here; the host's mount table never holds it. The unmount helpers serve the
 * layer binds and residue (rootfs mounts an older Hearth made on the host).
 */
import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runChecked, runCommand, type CommandRunner } from './command.ts';
import { readMountInfo } from './mountinfo.ts';

/**
 * runc's root path for a container: beside the runc state dir, not in the bundle. With a user
 * namespace, runc sets the rootfs up as the container's root, which has no privilege over host
 * dirs: every dir on the way must be searchable by others, and a data dir (often 0700) is not.
 */
export function rootfsBase(runcRoot: string): string {
  return `${runcRoot}.rootfs`;
}

export function rootfsDir(runcRoot: string, id: string): string {
  return join(rootfsBase(runcRoot), id);
}

/** Creates the (empty) root path with search-only (0711) dirs from the runc root's parent down. */
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
