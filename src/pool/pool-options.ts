import type { PoolRuntime } from './pool-runtime.ts';

/** What a Pool is built from: the engine, where images come from, and the operator's limits. */
export interface PoolOptions {
  runtime: PoolRuntime;
  /** Unpacked layer dirs of an image, top-most first (from the image store). */
  layerDirs: (digest: string) => Promise<string[]>;
  /**
   * The image's layer dirs only if it is already in the local store (never pulls), else undefined.
   * Given, a deployed version's rootfs is mounted ahead so its first cold start skips the mount;
   * layerDirs is not used for that because it may pull (at start, for every known function).
   */
  localLayerDirs?: (digest: string) => Promise<string[] | undefined>;
  /** How often the idle reaper (and the minWarm top-up) looks; idle timeouts are honoured to this precision. */
  reapIntervalMs?: number;
  /** Decrypted values of the secrets a function's config names (mounted at /run/secrets). */
  secretsFor?: (names: string[]) => Promise<Record<string, string>>;
  /** HEARTH_MAX_CONTAINERS: function containers across all functions (stem cells not counted). */
  maxContainers?: number;
  /** HEARTH_POOL_MEMORY_MB: the sum of the containers' memoryMb may not exceed this. */
  memoryBudgetMb?: number;
  /** HEARTH_STEM_CELLS: generic containers kept started; needs baseLayerDir. */
  stemCells?: number;
  baseLayerDir?: () => Promise<string>;
  /** A stem cell's memory limit, and the only memoryMb it serves (V8's heap limit is fixed when node starts). Default 128. */
  stemCellMemoryMb?: number;
  warn?: (message: string) => void;
}
