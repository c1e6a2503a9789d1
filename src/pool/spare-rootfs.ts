import { codeCacheKey, type PoolFunction } from './pooled-container.ts';
import type { PoolRuntime } from './pool-runtime.ts';

/** How long after a scale-out or a function's last container went its next spare rootfs is mounted. */
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
 * version's code cache ahead), and again when it scales out or its last container is gone.
 * Removing the function drops its active version's code cache.
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
   * A cold start of the active version took its spare. The next one gets a spare only when the
   * function is scaling out (`scalingOut`: it has other containers here), mounted shortly, off
   * any invocation's path; a function that runs in one container gets its spare back when that
   * container is gone (`lastContainerGone`). Measured: mounting after every cold start cost 200
   * functions started 4 at a time ~15 % (194 / 186 vs 215 / 259 ms p50), and the spares they
   * made pushed other functions' out of the runtime's bounded set.
   */
  coldStarted(fn: PoolFunction, layerDirs: string[], scalingOut: boolean): void {
    const entry = this.prepared.get(fn.name);
    if (entry?.digest === fn.digest) entry.layerDirs = layerDirs;
    if (scalingOut) this.mountSoon(fn);
  }

  /** The function has no container here any more: its next call is a cold start, and gets a spare. */
  lastContainerGone(fn: PoolFunction): void {
    this.mountSoon(fn);
  }

  /** Later, not now: spawning `mount` competes with whatever caused this (a start, a teardown). */
  private mountSoon(fn: PoolFunction): void {
    setTimeout(() => {
      const entry = this.prepared.get(fn.name);
      if (this.closed || entry?.digest !== fn.digest || !entry.layerDirs) return;
      this.deps.runtime.prepareRootfs(entry.layerDirs);
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
