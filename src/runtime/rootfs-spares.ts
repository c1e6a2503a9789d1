/**
 * Rootfs overlays mounted ahead of need. The overlay mount (a spawned `mount`, ~4 ms from a large
 * Node process) is the slowest host-side step before `runc run`; a function's first cold start
 * after a deploy should not pay it. A spare is an ordinary container rootfs — a read-only overlay
 * of the same layers, used by exactly one container — that is not yet assigned: createContainer
 * takes it instead of mounting. Nothing is shared between containers.
 *
 * At most one spare per layer set and MAX_SPARES in all (the oldest is dropped first), so the
 * mount table stays small however many functions are deployed. Spares live beside the
 * containers' rootfs dirs (`_spare-<hex>`, a name no container id takes), so a crashed
 * predecessor's spares are swept with its containers' residue.
 */
import { randomBytes } from 'node:crypto';
import { rmdir } from 'node:fs/promises';
import type { CommandRunner } from './command.ts';
import { makeRootfsMountPoint, mountOverlay, rootfsDir, unmount } from './rootfs.ts';

const MAX_SPARES = 32;

export interface Spare {
  path: string;
  /** Settles when the overlay is mounted at `path` (rejects if mounting failed). */
  mounted: Promise<void>;
}

export class RootfsSpares {
  /** By layer key; Map order is age (oldest first). */
  private readonly spares = new Map<string, Spare>();
  private open = false;

  /** `run` runs mount and umount (the runtime's process spawner). */
  constructor(private readonly o: { runcRoot: string; emptyDir: string; run: CommandRunner }) {}

  /** Accepts prepare() calls (Runtime.start). */
  start(): void {
    this.open = true;
  }

  /** Mounts a spare for these layers in the background, unless one exists. */
  prepare(layerDirs: string[]): void {
    if (!this.open) return;
    const key = keyOf(layerDirs);
    if (this.spares.has(key)) return;
    const name = `_spare-${randomBytes(6).toString('hex')}`;
    const path = rootfsDir(this.o.runcRoot, name);
    const mounted = makeRootfsMountPoint(this.o.runcRoot, name).then((target) =>
      mountOverlay({ layerDirs, target, emptyDir: this.o.emptyDir, run: this.o.run }),
    );
    // Observed here; whoever takes the spare sees the failure when it awaits `mounted`.
    mounted.catch(() => undefined);
    this.spares.set(key, { path, mounted });
    while (this.spares.size > MAX_SPARES) {
      const [oldest] = this.spares.keys();
      void this.drop(oldest!);
    }
  }

  /** The spare for these layers, now owned by the caller (who unmounts it with its residue). */
  take(layerDirs: string[]): Spare | undefined {
    const key = keyOf(layerDirs);
    const spare = this.spares.get(key);
    this.spares.delete(key);
    return spare;
  }

  /** Drops the spare for these layers (its function version will not start again). */
  discard(layerDirs: string[]): Promise<void> {
    return this.drop(keyOf(layerDirs));
  }

  /** Stops preparing and removes every spare, waiting for mounts in progress first. */
  async close(): Promise<void> {
    this.open = false;
    await Promise.all([...this.spares.keys()].map((k) => this.drop(k)));
  }

  private async drop(key: string): Promise<void> {
    const spare = this.spares.get(key);
    if (!spare) return;
    this.spares.delete(key);
    await spare.mounted.catch(() => undefined);
    await unmount(spare.path, this.o.run).catch(() => undefined);
    await rmdir(spare.path).catch(() => undefined);
  }
}

function keyOf(layerDirs: string[]): string {
  return layerDirs.join('\n');
}
