import type { FunctionCatalog } from '../catalog/index.ts';
import type { CollectionReport, ImageStore } from '../image/index.ts';

export interface StorageCollectorOptions {
  images: ImageStore;
  catalog: FunctionCatalog;
  /** Digests under containers the pool holds (Pool.liveDigests). */
  liveDigests: () => Set<string>;
  /** 0 or less: only on demand. */
  intervalMs: number;
  log?: (msg: string) => void;
}

/**
 * Garbage collection of the image store on a schedule and on demand (`POST /v1/gc`, function
 * removal). Keeps every image a version of any function names and every image under a
 * container; the store adds pinned images (deploys and pulls in progress) and the base layer.
 */
export class StorageCollector {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<CollectionReport> | undefined;
  #last: CollectionReport | undefined;

  constructor(private readonly opts: StorageCollectorOptions) {}

  start(): void {
    if (this.opts.intervalMs <= 0) return;
    this.#timer = setInterval(() => {
      this.run().catch((err: unknown) => this.opts.log?.(`image gc failed: ${(err as Error).message}`));
    }, this.opts.intervalMs);
    this.#timer.unref();
  }

  get last(): CollectionReport | undefined {
    return this.#last;
  }

  /** One collection; a call while one runs waits for it and then runs its own (new garbage may exist). */
  async run(): Promise<CollectionReport> {
    while (this.#running) await this.#running.catch(() => undefined);
    this.#running = this.#collect();
    try {
      return await this.#running;
    } finally {
      this.#running = undefined;
    }
  }

  async #collect(): Promise<CollectionReport> {
    // Read inside the store's exclusive section, after its pins (see ImageStore.collect).
    const report = await this.opts.images.collect(async () => [
      ...(await this.opts.catalog.referencedDigests()),
      ...this.opts.liveDigests(),
    ]);
    this.#last = report;
    return report;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running?.catch(() => undefined);
  }
}
