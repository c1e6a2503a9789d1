/**
 * Where runc finds a container's layers. runc mounts the rootfs overlay (`withOverlayRoot`) inside
 * the container's user namespace, as the container's root: a host uid with no privilege over host
 * dirs. overlayfs looks the lowerdirs up with its credentials, so every dir on the way must be
 * searchable by others, and a data dir often is not (mkdtemp's 0700, or anything under /root).
 * So each distinct dir holding layer dirs (the image store's one, in practice) is bind-mounted
 * read-only, once, under `base` (search-only dirs on /run), and lowerdirs are given through it:
 * only the layer dirs and the dir holding them must be searchable, which the image store ensures.
 * Also holds the empty dir a single-layer image is padded with.
 *
 * Never remove `base` recursively: a bind still mounted there would take the layers with it.
 */
import { chmod, mkdir, readdir, rm, rmdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { runChecked, type CommandRunner } from './command.ts';
import { mountsUnder, unmount } from './rootfs.ts';

export class LayerBinds {
  /** Dir holding layer dirs → its bind under `base` (settles once mounted). */
  private readonly binds = new Map<string, Promise<string>>();
  private made = 0;

  /** `run` runs mount and umount (the runtime's process spawner). */
  constructor(private readonly o: { base: string; run: CommandRunner }) {}

  /** Padding lowerdir for single-layer images: must stay empty, or it would show through. */
  get emptyDir(): string {
    return join(this.o.base, 'empty');
  }

  /** Makes base and an empty padding dir (a predecessor's binds were removed first: `removeLayerBinds`). */
  async start(): Promise<void> {
    await mkdir(this.o.base, { recursive: true, mode: 0o711 });
    await chmod(this.o.base, 0o711);
    // Binds are only ever mounted at base/<n>, so this one may go recursively.
    await rm(this.emptyDir, { recursive: true, force: true });
    await mkdir(this.emptyDir, { mode: 0o755 });
  }

  /** The overlay's lowerdirs for these layer dirs (top-most first), as runc can reach them. */
  async lowerDirs(layerDirs: string[]): Promise<string[]> {
    if (layerDirs.length === 0) throw new Error('no layer dirs');
    const reachable = await Promise.all(layerDirs.map(async (dir) => join(await this.bind(dirname(dir)), basename(dir))));
    return reachable.length === 1 ? [...reachable, this.emptyDir] : reachable;
  }

  /** Unmounts every bind (waiting for binds in progress) and removes base. */
  async close(): Promise<void> {
    await Promise.allSettled(this.binds.values());
    this.binds.clear();
    await removeLayerBinds(this.o.base, this.o.run);
  }

  private bind(dir: string): Promise<string> {
    let bound = this.binds.get(dir);
    if (!bound) {
      const target = join(this.o.base, String(this.made++));
      bound = mkdir(target, { mode: 0o711 })
        .then(() => runChecked('mount', ['--bind', '-o', 'ro', dir, target], undefined, this.o.run))
        .then(() => target);
      this.binds.set(dir, bound);
      // A failed bind is tried again by the next container, not remembered.
      bound.catch(() => {
        if (this.binds.get(dir) === bound) this.binds.delete(dir);
      });
    }
    return bound;
  }
}

/** Unmounts whatever is mounted under `base`, then removes its (now empty) dirs; never recursive. */
export async function removeLayerBinds(base: string, run?: CommandRunner): Promise<void> {
  for (const m of await mountsUnder(base)) await unmount(m, run).catch(() => {});
  for (const name of await readdir(base).catch(() => [] as string[])) await rmdir(join(base, name)).catch(() => {});
  await rmdir(base).catch(() => {});
}
