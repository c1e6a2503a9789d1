import { codeCacheKey, type PoolFunction } from './pooled-container.ts';
import type { PoolRuntime } from './pool-runtime.ts';

/** How long after a cold start its function's next spare rootfs is mounted (see replenish). */
const REPLENISH_DELAY_MS = 100;

export interface SpareRootfsDeps {
  runtime: Pick<PoolRuntime, 'prepareRootfs' | 'discardRootfs' | 'prepareCodeCache' | 'discardCodeCache'>;
  /** The image's layer dirs only if it is already in the local store (never pulls), else undefined. */
  localLayerDirs?: (digest: string) => Promise<string[] | undefined>;
}

interface Prepared {
  digest: string;
  /** Known once the image's layers were resolved: a spare is dropped by these, never by resolving again. */
  layerDirs?: string[];
}

/**
 * One spare rootfs per function's active version, mounted by the runtime ahead of need so a cold
 * start skips the `mount`: at activation if the image is local (when the runtime also makes the
 * version's code cache ahead), and again after each cold start. Removing the function drops its
 * active version's code cache.
 * A newer version's activation, or the function's removal, drops the old version's unused spare.
 */
export class SpareRootfs {
  /** Each function's active image, and its layer dirs once resolved. */
  private readonly prepared = new Map<string, Prepared>();
  private closed = false;

  constructor(private readonly deps: SpareRootfsDeps) {}

  /**
   * `fn` is its function's active version now. `mountNow` false skips the mount (its first invoke
   * will take a stem cell, and a mount would only compete with that for the CPU).
   */
  activate(fn: PoolFunction, mountNow: boolean): void {
    const previous = this.prepared.get(fn.name);
    if (previous?.digest === fn.digest) return;
    const entry: Prepared = { digest: fn.digest };
    this.prepared.set(fn.name, entry);
    if (previous) void this.discard(previous);
    const { localLayerDirs } = this.deps;
    if (!localLayerDirs || !mountNow) return;
    localLayerDirs(fn.digest)
      .then((dirs) => {
        // Another version may have been activated, or the function removed, meanwhile.
        if (!dirs || this.closed || this.prepared.get(fn.name) !== entry) return;
        entry.layerDirs = dirs;
        this.deps.runtime.prepareRootfs(dirs);
        // The first cold start's compile too, while the version waits for its first call.
        this.deps.runtime.prepareCodeCache?.({ key: codeCacheKey(fn), layerDirs: dirs, memoryMb: fn.config.memoryMb });
      })
      .catch(() => undefined);
  }

  /**
   * After a cold start of the active version, the next one (scale-out, replacing a recycled
   * container) gets a spare: mounted shortly, off any invocation's path.
   */
  replenish(fn: PoolFunction, layerDirs: string[]): void {
    // Later, not now: spawning `mount` blocks the event loop for a moment, and the new
    // container's first invocation is being sent right now.
    setTimeout(() => {
      const entry = this.prepared.get(fn.name);
      if (this.closed || entry?.digest !== fn.digest) return;
      entry.layerDirs = layerDirs;
      this.deps.runtime.prepareRootfs(layerDirs);
    }, REPLENISH_DELAY_MS).unref();
  }

  /** The function was removed: its spare goes. */
  async remove(name: string): Promise<void> {
    const old = this.prepared.get(name);
    this.prepared.delete(name);
    if (!old) return;
    // A code cache is its function's own (see codeCacheKey): a later function of the same name and
    // code must not find one. Older versions' caches stay for a rollback, until the store's bound.
    await this.deps.runtime.discardCodeCache?.(codeCacheKey({ name, digest: old.digest }));
    await this.discard(old);
  }

  /** No more mounts; the runtime unmounts the spares it holds when it closes. */
  close(): void {
    this.closed = true;
  }

  private async discard(old: Prepared): Promise<void> {
    // Two functions with the same image share one spare: keep it while either is active.
    if (!old.layerDirs || [...this.prepared.values()].some((p) => p.digest === old.digest)) return;
    await this.deps.runtime.discardRootfs(old.layerDirs).catch(() => undefined);
  }
}
