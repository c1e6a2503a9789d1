import { randomBytes } from 'node:crypto';
import { DEFAULT_MEMORY_MB } from '../config/index.ts';
import type { HttpRequestHead, HttpSink, InvokeOutcome, InvokeRequest } from '../runtime/index.ts';
import { Capacity } from './capacity.ts';
import type { PoolOptions } from './pool-options.ts';
import type { PoolContainer } from './pool-runtime.ts';
import { codeCacheKey, PooledContainer, type Lease, type PoolFunction } from './pooled-container.ts';
import { describePool, poolEntries, type ContainerStateEntry, type PoolDescription, type PoolEntry } from './report.ts';
import { notAcquired, type RunResult } from './run-result.ts';
import { CodeCacheAhead } from './code-cache-ahead.ts';
import { StemCells } from './stem-cells.ts';
import { WaitQueue } from './wait-queue.ts';
import { WarmKeeper } from './warm-keeper.ts';

const SHUTTING_DOWN = 'the pool is shutting down';

/**
 * Warm containers per function. A container that finished an invocation serves the next one of
 * the same function version; at most `maxContainers` per function and, across functions, at most
 * HEARTH_MAX_CONTAINERS containers and HEARTH_POOL_MEMORY_MB of memoryMb. When the global limits
 * are reached, idle containers of other functions are evicted, least recently used first; when
 * nothing can be evicted the caller waits until its deadline. `minWarm` containers are kept started.
 *
 * The pool owns the leases and wires its parts, each the sole owner of its state: `Capacity`
 * (containers held, limits, eviction choice), `WaitQueue` (waiting callers), `WarmKeeper` (minWarm,
 * idle reaping), `CodeCacheAhead` (a version's code cache made before its first start) and `StemCells` (generic containers, specialization).
 */
export class Pool {
  private readonly capacity: Capacity;
  private readonly waiting = new WaitQueue<Lease>();
  private readonly warm: WarmKeeper;
  private readonly codeCaches: CodeCacheAhead;
  private readonly stems: StemCells | undefined;
  private readonly warn: (message: string) => void;
  private closed = false;

  constructor(private readonly opts: PoolOptions) {
    this.warn = opts.warn ?? ((m) => console.warn(`[hearth pool] ${m}`));
    this.capacity = new Capacity({ maxContainers: opts.maxContainers, memoryBudgetMb: opts.memoryBudgetMb });
    this.warm = new WarmKeeper({
      capacity: this.capacity,
      startWarm: (fn) => this.startWarm(fn),
      destroy: (pooled, reason) => this.destroy(pooled, reason),
      intervalMs: opts.reapIntervalMs ?? 250,
    });
    this.codeCaches = new CodeCacheAhead({ runtime: opts.runtime, localLayerDirs: opts.localLayerDirs });
    if ((opts.stemCells ?? 0) > 0) {
      if (!opts.baseLayerDir) throw new Error('stem cells need baseLayerDir');
      this.stems = new StemCells({
        runtime: opts.runtime,
        count: opts.stemCells!,
        baseLayerDir: opts.baseLayerDir,
        memoryMb: opts.stemCellMemoryMb ?? DEFAULT_MEMORY_MB,
        layerDirs: opts.layerDirs,
        warn: this.warn,
      });
    }
  }

  start(): void {
    this.warm.start();
    this.stems?.start();
  }

  /** Runs one invocation in a warm container, starting one if needed. Never throws for function failures. */
  run(fn: PoolFunction, req: InvokeRequest): Promise<RunResult> {
    return this.withLease(fn, req, (container) => container.invoke(req));
  }

  /**
   * Runs the invocation at once in a warm container of this exact version that has a free slot,
   * or answers undefined without waiting or starting anything: when none has one, or when a
   * caller of the function already waits for a container (it keeps its turn). With `startHere`,
   * a function with no container here starts its first one for this call (a ready stem cell when
   * one can serve; within the limits, or with `evictHere` evicting idle containers of other
   * functions as a queued start would): its first call then costs the start, not also a trip
   * through the queue. Later containers (scale-out) are the queue's to place.
   */
  tryRun(fn: PoolFunction, req: InvokeRequest, o: { startHere?: boolean; evictHere?: boolean } = {}): Promise<RunResult> | undefined {
    if (this.closed || this.waiting.has(fn.name)) return undefined;
    const warm = this.capacity.findWarm(fn);
    if (warm) {
      warm.inFlight++;
      return this.useLease({ pooled: warm, coldStart: false }, (container) => container.invoke(req));
    }
    const firstHere = o.startHere && this.capacity.containersOf(fn.name).length === 0;
    if (!firstHere || fn.config.maxContainers < 1) return undefined;
    // Evicting is the queue's decision unless no other node could take the call (evictHere), and
    // never ahead of callers already waiting for room here.
    if (!this.capacity.fits(fn.config.memoryMb) && !(o.evictHere && this.waiting.size === 0 && this.evictFor(fn))) return undefined;
    return this.startContainer(fn, { reserve: true, useStemCell: true }).then(
      (lease) => this.useLease(lease, (container) => container.invoke(req)),
      (err: unknown) => notAcquired(err, this.closed),
    );
  }

  /**
   * Runs an HTTP-trigger invocation the same way: `onLease` hears whether it is a cold start
   * before the response begins; the lease is held until the response body has ended.
   */
  runHttp(
    fn: PoolFunction,
    req: InvokeRequest,
    http: { request: HttpRequestHead; body?: Uint8Array; env: Record<string, string> },
    sink: HttpSink & { onLease?: (coldStart: boolean) => void },
  ): Promise<RunResult> {
    return this.withLease(fn, req, (container, coldStart) => {
      sink.onLease?.(coldStart);
      return container.invokeHttp(req, http, sink);
    });
  }

  /**
   * Keeps `fn.config.minWarm` containers of this version started (after a deploy, and for every
   * known function at start); minWarm 0 drops the target. Also readies what its first cold start needs.
   */
  keepWarm(fn: PoolFunction): void {
    // The first invoke may specialize a stem cell: have its files read by then.
    this.stems?.prefetch(fn);
    // Its first invoke will take a stem cell: a compile now would only compete with that for the CPU.
    this.codeCaches.activate(fn, fn.config.minWarm > 0 || !this.stemCellCanServe(fn));
    this.warm.setTarget(fn);
    this.warm.topUp();
  }

  /**
   * Containers of `name` that are not at `keepVersion` stop taking work; idle ones go now, busy
   * ones when their in-flight invocations finish. Without `keepVersion` the whole function goes.
   */
  async retire(name: string, keepVersion?: number): Promise<void> {
    const doomed: Promise<void>[] = [];
    for (const pooled of this.capacity.containersOf(name)) {
      if (pooled.fn.version === keepVersion) continue;
      pooled.retiring = true;
      if (pooled.isIdle()) doomed.push(this.destroy(pooled, 'retired'));
    }
    if (keepVersion === undefined) {
      this.warm.dropTarget(name);
      await this.codeCaches.remove(name);
      this.waiting.rejectFunction(name, new Error(`function ${name} was removed`));
    }
    await Promise.all(doomed);
  }

  /**
   * Image digests of every container the pool holds (starting, idle, busy or retiring): garbage
   * collection must not remove the layers under them.
   */
  liveDigests(): Set<string> {
    return this.capacity.liveDigests();
  }

  /** Stem cells started and not yet taken. */
  get readyStemCells(): number {
    return this.stems?.size ?? 0;
  }

  snapshot(): PoolEntry[] {
    return poolEntries(this.capacity.all(), Date.now());
  }

  /**
   * Each container's function and state, unsorted: what the scheduler's warmth needs, read on
   * every container start and job end, without the report's dates and sorting (snapshot()).
   */
  states(): ContainerStateEntry[] {
    return this.capacity.all().map((p) => ({ function: p.fn.name, state: p.state, retiring: p.retiring, inFlight: p.inFlight }));
  }

  /** The snapshot plus what each container's cgroup uses now, the stem cells and the global limits. */
  describe(): Promise<PoolDescription> {
    return describePool(this.capacity.all(), this.stems?.snapshot() ?? Promise.resolve([]), {
      ...this.capacity.limits,
      usage: this.capacity.usage(),
      waiting: this.waiting.size,
    });
  }

  /** Rejects waiters and destroys every container and stem cell (in-flight invocations end with an error). */
  async close(): Promise<void> {
    this.closed = true;
    this.warm.close();
    this.codeCaches.close();
    this.waiting.drain(new Error(SHUTTING_DOWN));
    const all = this.capacity.clear();
    await Promise.all([...all.map((p) => p.container?.destroy(SHUTTING_DOWN)), this.stems?.close()]);
  }

  /** Acquires a container within the invocation's deadline, runs `use` on it, and releases it. */
  private async withLease(
    fn: PoolFunction,
    req: InvokeRequest,
    use: (container: PoolContainer, coldStart: boolean) => Promise<InvokeOutcome>,
  ): Promise<RunResult> {
    let lease: Lease;
    try {
      lease = await this.acquire(fn, req.deadline);
    } catch (err) {
      return notAcquired(err, this.closed);
    }
    return this.useLease(lease, use);
  }

  /** Runs `use` on a leased container and releases it. */
  private async useLease(
    { pooled, coldStart }: Lease,
    use: (container: PoolContainer, coldStart: boolean) => Promise<InvokeOutcome>,
  ): Promise<RunResult> {
    try {
      const outcome = await use(pooled.container!, coldStart);
      return { outcome, coldStart, stemCell: coldStart && pooled.fromStemCell, containerId: pooled.id };
    } finally {
      pooled.served++;
      this.release(pooled);
    }
  }

  private acquire(fn: PoolFunction, deadline: number): Promise<Lease> {
    if (this.closed) return Promise.reject(new Error(SHUTTING_DOWN));
    const budget = this.capacity.limits.memoryBudgetMb;
    if (fn.config.memoryMb > (budget ?? Infinity)) {
      return Promise.reject(new Error(`function ${fn.name} needs ${fn.config.memoryMb} MB, more than the pool's whole budget (${budget} MB)`));
    }
    return this.tryAcquire(fn) ?? this.waiting.wait(fn, deadline);
  }

  /** A lease now (a warm slot, or a start within the limits, evicting if need be), else undefined. */
  private tryAcquire(fn: PoolFunction): Promise<Lease> | undefined {
    const warm = this.capacity.findWarm(fn);
    if (warm) {
      warm.inFlight++;
      return Promise.resolve({ pooled: warm, coldStart: false });
    }
    if (this.capacity.liveCount(fn.name) >= fn.config.maxContainers) {
      const stale = this.capacity.staleIdle(fn);
      if (stale) void this.destroy(stale, 'replaced by a newer version');
      return undefined;
    }
    if (!this.capacity.fits(fn.config.memoryMb) && !this.evictFor(fn)) return undefined;
    return this.startContainer(fn, { reserve: true, useStemCell: true });
  }

  /** Evicts idle containers of other functions (least recently used first) until `fn` fits; false if it cannot. */
  private evictFor(fn: PoolFunction): boolean {
    const victims = this.capacity.evictionVictims(fn);
    if (!victims) return false;
    // The evicted still count until they are gone; the start need not wait for that.
    for (const p of victims) void this.destroy(p, `evicted for ${fn.name}`);
    return true;
  }

  private startWarm(fn: PoolFunction): void {
    this.startContainer(fn, { reserve: false, useStemCell: false }).catch((err: unknown) => {
      if (!this.closed) this.warn(`prewarming ${fn.name} v${fn.version} failed: ${(err as Error).message}`);
    });
  }

  /** Holds the new container in `capacity` at once (before any await), so the limits count it while it starts. */
  private async startContainer(fn: PoolFunction, o: { reserve: boolean; useStemCell: boolean }): Promise<Lease> {
    const id = `${fn.name}-v${fn.version}-${randomBytes(4).toString('hex')}`;
    const pooled = new PooledContainer(id, fn, Date.now());
    if (o.reserve) pooled.inFlight = 1; // reserved for the caller that caused the start
    this.capacity.add(pooled);
    try {
      const cell = o.useStemCell && this.stemCellCanServe(fn) ? await this.stems!.specialize(fn) : undefined;
      if (cell) {
        pooled.id = cell.id;
        pooled.fromStemCell = true;
        pooled.replenishStemCells = true;
      }
      const container = cell ?? (await this.startCold(fn, id));
      pooled.container = container;
      if (this.closed) {
        await this.destroy(pooled, SHUTTING_DOWN);
        throw new Error(SHUTTING_DOWN);
      }
      void container.exited.then(() => this.forget(pooled));
      if (!o.reserve) this.dispatch();
      return { pooled, coldStart: true };
    } catch (err) {
      this.forget(pooled);
      throw err;
    }
  }

  private async startCold(fn: PoolFunction, id: string): Promise<PoolContainer> {
    const layerDirs = await this.opts.layerDirs(fn.digest);
    const names = fn.config.secrets ?? [];
    const secrets = names.length > 0 && this.opts.secretsFor ? await this.opts.secretsFor(names) : undefined;
    return this.opts.runtime.createContainer({
      ...(secrets ? { secrets } : {}),
      id,
      layerDirs,
      memoryMb: fn.config.memoryMb,
      env: fn.config.env,
      network: fn.config.network,
      ...(fn.config.dns ? { dns: fn.config.dns } : {}),
      hostname: fn.name,
      functionName: fn.name,
      version: fn.version,
      codeCacheKey: codeCacheKey(fn),
    });
  }

  private stemCellCanServe(fn: PoolFunction): boolean {
    return this.stems?.canServe(fn) ?? false;
  }

  private release(pooled: PooledContainer): void {
    if (pooled.replenishStemCells) {
      pooled.replenishStemCells = false;
      // Once the caller's answer is on its way: a start's first steps would run before it.
      setImmediate(() => this.stems?.replenish());
    }
    pooled.inFlight--;
    pooled.idleSince = Date.now();
    if (pooled.retiring && pooled.inFlight === 0) {
      void this.destroy(pooled, 'retired');
      return;
    }
    this.dispatch();
  }

  /** Hands free capacity to waiting callers (see WaitQueue.serve). */
  private dispatch(): void {
    this.waiting.serve((fn) => (this.closed ? undefined : this.tryAcquire(fn)));
  }

  /** A container that exited by itself (a destroyed one was removed already), or one that never started. */
  private forget(pooled: PooledContainer): void {
    if (!this.capacity.remove(pooled)) return;
    this.dispatch();
  }

  private async destroy(pooled: PooledContainer, reason: string): Promise<void> {
    if (this.capacity.removeDying(pooled)) this.dispatch();
    try {
      await pooled.container?.destroy(reason);
    } finally {
      this.capacity.gone(pooled);
      if (!this.closed) {
        this.dispatch();
        this.warm.topUp();
      }
    }
  }
}
