import { codeCacheKey, type PoolFunction } from './pooled-container.ts';
import type { PoolRuntime } from './pool-runtime.ts';

export interface CodeCacheAheadDeps {
  runtime: Pick<PoolRuntime, 'prepareCodeCache' | 'discardCodeCache'>;
  /** The image's layer dirs only if it is already in the local store (never pulls), else undefined. */
  localLayerDirs?: (digest: string) => Promise<string[] | undefined>;
}

/**
 * Each function's active version gets its bundle's code cache made by the runtime ahead of its
 * first start, when the version is activated and its image is local; removing the function drops
 * its active version's code cache.
 */
export class CodeCacheAhead {
  /** Each function's active image digest. */
  private readonly active = new Map<string, string>();
  private closed = false;

  constructor(private readonly deps: CodeCacheAheadDeps) {}

  /**
   * `fn` is its function's active version now. `compileNow` false skips the compile (its first
   * invoke will take a stem cell, which makes the version's cache after that invoke; a compile
   * would only compete with it for the CPU).
   */
  activate(fn: PoolFunction, compileNow: boolean): void {
    if (this.active.get(fn.name) === fn.digest) return;
    this.active.set(fn.name, fn.digest);
    const { localLayerDirs } = this.deps;
    if (!localLayerDirs || !compileNow) return;
    localLayerDirs(fn.digest)
      .then((dirs) => {
        // Another version may have been activated, or the function removed, meanwhile.
        if (!dirs || this.closed || this.active.get(fn.name) !== fn.digest) return;
        this.deps.runtime.prepareCodeCache?.({ key: codeCacheKey(fn), layerDirs: dirs, memoryMb: fn.config.memoryMb });
      })
      .catch(() => undefined);
  }

  /**
   * The function was removed. A code cache is its function's own (see codeCacheKey): a later
   * function of the same name and code must not find one. Older versions' caches stay for a
   * rollback, until the store's bound.
   */
  async remove(name: string): Promise<void> {
    const digest = this.active.get(name);
    this.active.delete(name);
    if (digest) await this.deps.runtime.discardCodeCache?.(codeCacheKey({ name, digest }));
  }

  close(): void {
    this.closed = true;
  }
}
