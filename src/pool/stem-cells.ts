import { randomBytes } from 'node:crypto';
import { ContainerStartError } from '../runtime/index.ts';
import { FunctionFilesCache } from './function-files.ts';
import type { PoolContainer, PoolRuntime } from './pool-runtime.ts';
import { codeCacheKey, type PoolFunction } from './pooled-container.ts';

export interface StemCellOptions {
  runtime: Pick<PoolRuntime, 'createContainer'>;
  /** How many generic containers to keep started. */
  count: number;
  /** The base layer's dir: a stem cell's rootfs has node, tini and the agent, and no /function. */
  baseLayerDir: () => Promise<string>;
  /** The cells' memory: their cgroup limit and V8 heap limit, and the only memoryMb they serve. */
  memoryMb: number;
  /** An image's unpacked layer dirs, top-most first: a function's files are read from its top layer. */
  layerDirs: (digest: string) => Promise<string[]>;
  warn: (message: string) => void;
}

export interface StemCellEntry {
  id: string;
  state: 'ready' | 'starting';
  ageMs: number;
  memoryBytes: number;
}

/** After a failed start, wait this long before the next try (a broken base layer must not spin). */
const RETRY_MS = 1000;
/**
 * A replacement starts when the taker says its first invocation is done (replenish()), at the
 * latest this long after take(): starting one spawns mount and runc, and each spawn of a large
 * Node process blocks its event loop for milliseconds, which the first invocation should not pay.
 */
const REPLENISH_AT_LATEST_MS = 1000;

/**
 * Generic containers started ahead of need (OpenWhisk's "stem cells", Fission's pool):
 * `specialize()` makes one a function's container, which then belongs to that function for life,
 * and a replacement starts in the background. A stem cell is never handed out twice and never
 * returns here.
 */
export class StemCells {
  private readonly ready: PoolContainer[] = [];
  private readonly files: FunctionFilesCache;
  private starting = 0;
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly inProgress = new Set<Promise<void>>();

  constructor(private readonly opts: StemCellOptions) {
    this.files = new FunctionFilesCache(opts.layerDirs);
  }

  start(): void {
    this.fill();
  }

  get size(): number {
    return this.ready.length;
  }

  /** Whether a cell can become `fn`'s container at all. */
  canServe(fn: PoolFunction): boolean {
    // A cell is started with no network and no secrets mount; a function that needs either gets its
    // own container. So does one of another size: node set V8's heap limit (75 % of the cell's
    // memory) when it started, and a function must get the heap a cold start would give it — with
    // a larger one V8 collects late, and a live set that fits a cold start is killed by the cgroup.
    if (fn.config.memoryMb !== this.opts.memoryMb || fn.config.network !== 'none') return false;
    return (fn.config.secrets?.length ?? 0) === 0;
  }

  /** Reads the function's files now, so its first invoke does not wait for that. */
  prefetch(fn: PoolFunction): void {
    this.files.get(fn.digest).catch(() => undefined);
  }

  /**
   * Takes a cell and makes it `fn`'s container; call replenish() once its first invocation is
   * done. undefined when none is ready or it failed for reasons of its own (the caller starts
   * cold); the function's own init error is thrown.
   */
  async specialize(fn: PoolFunction): Promise<PoolContainer | undefined> {
    if (!this.canServe(fn) || this.ready.length === 0) return undefined;
    let files: Record<string, Buffer> | undefined;
    try {
      files = await this.files.get(fn.digest);
    } catch (err) {
      this.opts.warn(`could not read the files of ${fn.name} for a stem cell, starting cold: ${(err as Error).message}`);
      return undefined;
    }
    // Files beside the code (assets, external packages): its own image has them in place.
    if (files === undefined) return undefined;
    const cell = this.take();
    if (!cell) return undefined;
    try {
      await cell.specialize({ functionName: fn.name, version: fn.version, files, env: fn.config.env, memoryMb: fn.config.memoryMb, codeCacheKey: codeCacheKey(fn) });
      return cell;
    } catch (err) {
      // Whatever happened, this cell saw the function's code: it is never used again.
      this.replenish();
      await cell.destroy('specialization failed');
      if (err instanceof ContainerStartError && err.reason === 'init_error') throw err;
      this.opts.warn(`stem cell ${cell.id} could not be specialized for ${fn.name}, starting cold: ${(err as Error).message}`);
      return undefined;
    }
  }

  /** A started, never-used stem cell, or undefined if none is ready now. */
  private take(): PoolContainer | undefined {
    let cell: PoolContainer | undefined;
    while ((cell = this.ready.shift()) && !cell.alive) {
      // Died while waiting (exited handler not run yet): skip it.
    }
    setTimeout(() => this.fill(), REPLENISH_AT_LATEST_MS).unref();
    return cell;
  }

  /** Starts replacements for the cells taken. */
  replenish(): void {
    this.fill();
  }

  private fill(): void {
    if (this.retryTimer) return;
    while (!this.closed && this.ready.length + this.starting < this.opts.count) {
      const started = this.startOne();
      this.inProgress.add(started);
      void started.then(() => this.inProgress.delete(started));
    }
  }

  private async startOne(): Promise<void> {
    this.starting++;
    let cell: PoolContainer;
    try {
      cell = await this.opts.runtime.createContainer({
        id: `stem-${randomBytes(5).toString('hex')}`,
        layerDirs: [await this.opts.baseLayerDir()],
        memoryMb: this.opts.memoryMb,
        env: {},
        hostname: 'stem',
        functionName: 'stem',
        version: 0,
      });
    } catch (err) {
      this.starting--;
      if (this.closed) return;
      this.opts.warn(`stem cell failed to start: ${(err as Error).message}`);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.fill();
      }, RETRY_MS);
      this.retryTimer.unref();
      return;
    }
    this.starting--;
    if (this.closed) {
      await cell.destroy('stem cells closed');
      return;
    }
    this.ready.push(cell);
    void cell.exited.then(() => {
      const i = this.ready.indexOf(cell);
      if (i === -1) return; // Taken: its new owner deals with its exit.
      this.ready.splice(i, 1);
      this.fill();
    });
  }

  async snapshot(): Promise<StemCellEntry[]> {
    const now = Date.now();
    const ready = await Promise.all(
      this.ready.map(async (c) => ({ id: c.id, state: 'ready' as const, ageMs: now - c.createdAt, memoryBytes: await c.memoryBytes() })),
    );
    const starting = Array.from({ length: this.starting }, (_, i) => ({ id: `(starting ${i + 1})`, state: 'starting' as const, ageMs: 0, memoryBytes: 0 }));
    return [...ready, ...starting];
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    const cells = this.ready.splice(0);
    await Promise.all(cells.map((c) => c.destroy('stem cells closed')));
    await Promise.all(this.inProgress);
  }
}
