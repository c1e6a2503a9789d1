import { randomBytes } from 'node:crypto';
import { ContainerStartError, type Container, type HttpRequestHead, type HttpSink, type InvokeOutcome, type InvokeRequest, type Runtime } from '../runtime/index.ts';
import { HearthError } from '../errors/index.ts';
import { readFunctionFiles } from './function-files.ts';
import { PooledContainer, type ContainerState, type PoolFunction } from './pooled-container.ts';
import { StemCells, type StemCellEntry } from './stem-cells.ts';

/** How long after a cold start its function's next spare rootfs is mounted (see replenishRootfs). */
const REPLENISH_DELAY_MS = 100;

export interface PoolOptions {
  runtime: Runtime;
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
  /** A stem cell's limit while generic; functions with a larger memoryMb start cold. Default 512. */
  stemCellMemoryMb?: number;
  warn?: (message: string) => void;
}

export interface RunResult {
  outcome: InvokeOutcome;
  coldStart: boolean;
  /** The container came from a stem cell specialized for this invocation. */
  stemCell: boolean;
  containerId: string | null;
}

export interface PoolEntry {
  id: string;
  function: string;
  version: number;
  state: ContainerState;
  retiring: boolean;
  fromStemCell: boolean;
  inFlight: number;
  invocations: number;
  ageMs: number;
  idleSince: string | null;
  memoryMb: number;
}

export interface PoolDescription {
  containers: (PoolEntry & { memoryBytes: number })[];
  stemCells: StemCellEntry[];
  limits: { maxContainers: number | null; memoryBudgetMb: number | null; containers: number; memoryReservedMb: number; waiting: number };
}

/** The invocation's deadline passed while it waited for a container. */
export class PoolTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PoolTimeoutError';
  }
}

interface Waiter {
  fn: PoolFunction;
  resolve: (lease: Lease) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

interface Lease {
  pooled: PooledContainer;
  coldStart: boolean;
}

const MAX_TIMER_MS = 2 ** 31 - 1;
/** Function files read for stem cells, by image digest; a handful of recent ones is plenty. */
const FILES_CACHE_SIZE = 32;

/**
 * Warm containers per function. A container that finished an invocation serves the next one of
 * the same function version; at most `maxContainers` per function and, across functions, at most
 * HEARTH_MAX_CONTAINERS containers and HEARTH_POOL_MEMORY_MB of memoryMb. When the global limits
 * are reached, idle containers of other functions are evicted, least recently used first; when
 * nothing can be evicted the caller waits (in arrival order, but a caller that could proceed never
 * waits behind one that cannot) until its deadline. `minWarm` containers are kept started.
 */
export class Pool {
  private readonly byFunction = new Map<string, Set<PooledContainer>>();
  /** Destroyed but not gone yet: their memory still counts, so the budget is never overcommitted. */
  private readonly dying = new Set<PooledContainer>();
  private readonly waiters: Waiter[] = [];
  /** Functions with minWarm > 0, at their current version. */
  private readonly warmTargets = new Map<string, PoolFunction>();
  private readonly filesCache = new Map<string, Promise<Record<string, string>>>();
  /** Each function's active image, and its layer dirs once resolved, whose rootfs was prepared (see keepWarm). */
  private readonly prepared = new Map<string, { digest: string; layerDirs?: string[] }>();
  private readonly stems: StemCells | undefined;
  private readonly warn: (message: string) => void;
  private reaper: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly opts: PoolOptions) {
    this.warn = opts.warn ?? ((m) => console.warn(`[hearth pool] ${m}`));
    if ((opts.stemCells ?? 0) > 0) {
      if (!opts.baseLayerDir) throw new Error('stem cells need baseLayerDir');
      this.stems = new StemCells({
        runtime: opts.runtime,
        count: opts.stemCells!,
        baseLayerDir: opts.baseLayerDir,
        memoryMb: opts.stemCellMemoryMb ?? 512,
        warn: this.warn,
      });
    }
  }

  start(): void {
    this.reaper = setInterval(() => void this.tick(), this.opts.reapIntervalMs ?? 250);
    this.reaper.unref();
    this.stems?.start();
  }

  /** Runs one invocation in a warm container, starting one if needed. Never throws for function failures. */
  run(fn: PoolFunction, req: InvokeRequest): Promise<RunResult> {
    return this.withLease(fn, req, (container) => container.invoke(req));
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

  /** Acquires a container within the invocation's deadline, runs `use` on it, and releases it. */
  private async withLease(
    fn: PoolFunction,
    req: InvokeRequest,
    use: (container: Container, coldStart: boolean) => Promise<InvokeOutcome>,
  ): Promise<RunResult> {
    let lease: Lease;
    try {
      lease = await this.acquire(fn, req.deadline);
    } catch (err) {
      return this.notAcquired(err);
    }
    const { pooled, coldStart } = lease;
    try {
      const outcome = await use(pooled.container!, coldStart);
      return { outcome, coldStart, stemCell: coldStart && pooled.fromStemCell, containerId: pooled.id };
    } finally {
      pooled.served++;
      this.release(pooled);
    }
  }

  /** The outcome of an invocation that never got a container: deadline, shutdown or a failed start. */
  private notAcquired(err: unknown): RunResult {
    const code = err instanceof PoolTimeoutError ? 'timeout'
      : this.closed ? 'internal'
      // The image could not be had: an infrastructure failure, never charged to the function's code.
      : err instanceof HearthError && err.code === 'image_unavailable' ? 'image_unavailable'
      : 'function_error';
    return {
      outcome: { ok: false, error: { code, message: (err as Error).message }, logs: [], durationMs: 0 },
      coldStart: !(err instanceof PoolTimeoutError),
      stemCell: false,
      containerId: null,
    };
  }

  /**
   * Keeps `fn.config.minWarm` containers of this version started (after a deploy, and for every
   * known function at start). minWarm 0 drops the target.
   */
  keepWarm(fn: PoolFunction): void {
    // The first invoke may specialize a stem cell: have its files read by then.
    if (this.stems) this.functionFiles(fn.digest).catch(() => undefined);
    this.prepareRootfs(fn);
    if (fn.config.minWarm > 0) this.warmTargets.set(fn.name, fn);
    else this.warmTargets.delete(fn.name);
    this.topUp();
  }

  /**
   * Has the runtime mount the active version's rootfs now (if its image is local), so its first
   * cold start skips the mount; the previous version's unused one is dropped (that version will
   * not start again).
   */
  private prepareRootfs(fn: PoolFunction): void {
    const previous = this.prepared.get(fn.name);
    if (previous?.digest === fn.digest) return;
    const entry: { digest: string; layerDirs?: string[] } = { digest: fn.digest };
    this.prepared.set(fn.name, entry);
    if (previous) void this.discardRootfs(previous);
    // Its first invoke will take a stem cell: a mount now would only compete with that for the CPU.
    if (!this.opts.localLayerDirs || (fn.config.minWarm === 0 && this.stemCellCanServe(fn))) return;
    this.opts
      .localLayerDirs(fn.digest)
      .then((dirs) => {
        // Another version may have been activated, or the function removed, meanwhile.
        if (!dirs || this.closed || this.prepared.get(fn.name) !== entry) return;
        entry.layerDirs = dirs;
        this.opts.runtime.prepareRootfs(dirs);
      })
      .catch(() => undefined);
  }

  /**
   * After a cold start of the active version, the next one (scale-out, replacing a recycled
   * container) gets a spare: the mount happens now, off any invocation's path.
   */
  private replenishRootfs(fn: PoolFunction, layerDirs: string[]): void {
    // Later, not now: spawning `mount` blocks the event loop for a moment, and the new
    // container's first invocation is being sent right now.
    setTimeout(() => {
      const entry = this.prepared.get(fn.name);
      if (this.closed || entry?.digest !== fn.digest) return;
      entry.layerDirs = layerDirs;
      this.opts.runtime.prepareRootfs(layerDirs);
    }, REPLENISH_DELAY_MS).unref();
  }

  /** Drops a spare by the dirs it was prepared with: never resolves (or pulls) an image again for that. */
  private async discardRootfs(old: { digest: string; layerDirs?: string[] }): Promise<void> {
    // Two functions with the same image share one spare: keep it while either is active.
    if (!old.layerDirs || [...this.prepared.values()].some((p) => p.digest === old.digest)) return;
    await this.opts.runtime.discardRootfs(old.layerDirs).catch(() => undefined);
  }

  private group(name: string): Set<PooledContainer> {
    let group = this.byFunction.get(name);
    if (!group) {
      group = new Set();
      this.byFunction.set(name, group);
    }
    return group;
  }

  private all(): PooledContainer[] {
    return [...this.byFunction.values()].flatMap((g) => [...g]);
  }

  private usage(): { count: number; memoryMb: number } {
    let count = 0;
    let memoryMb = 0;
    for (const p of [...this.all(), ...this.dying]) {
      count++;
      memoryMb += p.memoryMb;
    }
    return { count, memoryMb };
  }

  /** Whether one more container of `memoryMb` fits the global limits, given `freedMb`/`freedCount` about to go. */
  private fits(memoryMb: number, freedCount = 0, freedMb = 0): boolean {
    const u = this.usage();
    if (this.opts.maxContainers !== undefined && u.count - freedCount + 1 > this.opts.maxContainers) return false;
    if (this.opts.memoryBudgetMb !== undefined && u.memoryMb - freedMb + memoryMb > this.opts.memoryBudgetMb) return false;
    return true;
  }

  private acquire(fn: PoolFunction, deadline: number): Promise<Lease> {
    if (this.closed) return Promise.reject(new Error('the pool is shutting down'));
    if (fn.config.memoryMb > (this.opts.memoryBudgetMb ?? Infinity)) {
      return Promise.reject(new Error(`function ${fn.name} needs ${fn.config.memoryMb} MB, more than the pool's whole budget (${this.opts.memoryBudgetMb} MB)`));
    }
    const now = this.tryAcquire(fn);
    if (now) return now;
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        fn,
        resolve,
        reject,
        timer: setTimeout(() => {
          const i = this.waiters.indexOf(waiter);
          if (i !== -1) this.waiters.splice(i, 1);
          reject(new PoolTimeoutError(`the invocation waited for a container of ${fn.name} past its deadline`));
        }, Math.max(0, Math.min(deadline - Date.now(), MAX_TIMER_MS))),
      };
      this.waiters.push(waiter);
    });
  }

  /** A lease now (a warm slot, or a start within the limits, evicting if need be), else undefined. */
  private tryAcquire(fn: PoolFunction): Promise<Lease> | undefined {
    const warm = this.findWarm(fn);
    if (warm) {
      warm.inFlight++;
      return Promise.resolve({ pooled: warm, coldStart: false });
    }
    const group = this.group(fn.name);
    const live = [...group].filter((p) => !p.retiring).length;
    if (live >= fn.config.maxContainers) {
      // A caller of a new version may be stuck behind idle containers of the old one: make room.
      const stale = [...group].find((p) => p.isIdle() && p.fn.version !== fn.version);
      if (stale) void this.destroy(stale, 'replaced by a newer version');
      return undefined;
    }
    if (!this.fits(fn.config.memoryMb) && !this.evictFor(fn)) return undefined;
    return this.startContainer(fn, { reserve: true, useStemCell: true });
  }

  /**
   * Evicts idle containers of other functions (and old versions), least recently used first,
   * until `fn` fits; evicts nothing unless that is enough. Returns whether `fn` fits now.
   */
  private evictFor(fn: PoolFunction): boolean {
    const candidates = this.all()
      .filter((p) => p.isIdle() && (p.fn.name !== fn.name || p.fn.version !== fn.version || p.retiring))
      .sort((a, b) => a.idleSince - b.idleSince);
    const chosen: PooledContainer[] = [];
    let freedMb = 0;
    for (const p of candidates) {
      if (this.fits(fn.config.memoryMb, chosen.length, freedMb)) break;
      chosen.push(p);
      freedMb += p.memoryMb;
    }
    if (!this.fits(fn.config.memoryMb, chosen.length, freedMb)) return false;
    for (const p of chosen) void this.destroy(p, `evicted for ${fn.name}`);
    // The evicted still count until they are gone (dying); the start must not wait for that.
    return true;
  }

  /** The most recently used container with a free slot: keeps the others idle so they can be reaped. */
  private findWarm(fn: PoolFunction): PooledContainer | undefined {
    let best: PooledContainer | undefined;
    for (const pooled of this.group(fn.name)) {
      if (pooled.fn.version !== fn.version || pooled.fn.digest !== fn.digest || !pooled.hasSlot()) continue;
      if (!best || pooled.idleSince > best.idleSince) best = pooled;
    }
    return best;
  }

  private async startContainer(fn: PoolFunction, o: { reserve: boolean; useStemCell: boolean }): Promise<Lease> {
    const id = `${fn.name}-v${fn.version}-${randomBytes(4).toString('hex')}`;
    const pooled = new PooledContainer(id, fn, Date.now());
    if (o.reserve) pooled.inFlight = 1; // reserved for the caller that caused the start
    this.group(fn.name).add(pooled);
    try {
      const container = (o.useStemCell && (await this.specializeStemCell(fn, pooled))) || (await this.startCold(fn, id));
      pooled.container = container;
      if (this.closed) {
        await this.destroy(pooled, 'the pool is shutting down');
        throw new Error('the pool is shutting down');
      }
      void container.exited.then(() => this.forget(pooled));
      if (!o.reserve) this.dispatch();
      return { pooled, coldStart: true };
    } catch (err) {
      this.forget(pooled);
      throw err;
    }
  }

  private async startCold(fn: PoolFunction, id: string): Promise<Container> {
    const layerDirs = await this.opts.layerDirs(fn.digest);
    const names = fn.config.secrets ?? [];
    const secrets = names.length > 0 && this.opts.secretsFor ? await this.opts.secretsFor(names) : undefined;
    const container = await this.opts.runtime.createContainer({
      ...(secrets ? { secrets } : {}),
      id,
      layerDirs,
      memoryMb: fn.config.memoryMb,
      env: fn.config.env,
      network: fn.config.network,
      hostname: fn.name,
      functionName: fn.name,
      version: fn.version,
    });
    this.replenishRootfs(fn, layerDirs);
    return container;
  }

  private stemCellCanServe(fn: PoolFunction): boolean {
    // A cell is started with no network and no secrets mount; a function that needs either gets its own container.
    if (!this.stems || fn.config.memoryMb > (this.opts.stemCellMemoryMb ?? 512) || fn.config.network !== 'none') return false;
    return (fn.config.secrets?.length ?? 0) === 0;
  }

  /**
   * Takes a stem cell and makes it `fn`'s container. undefined when none is ready or it failed for
   * reasons of its own (the caller starts cold); the function's own init error is thrown.
   */
  private async specializeStemCell(fn: PoolFunction, pooled: PooledContainer): Promise<Container | undefined> {
    const stems = this.stems;
    if (!stems || !this.stemCellCanServe(fn)) return undefined;
    const cell = stems.take();
    if (!cell) return undefined;
    try {
      const files = await this.functionFiles(fn.digest);
      await cell.specialize({ functionName: fn.name, version: fn.version, files, env: fn.config.env, memoryMb: fn.config.memoryMb });
      pooled.id = cell.id;
      pooled.fromStemCell = true;
      pooled.replenishStemCells = true;
      return cell;
    } catch (err) {
      // Whatever happened, this cell saw the function's code: it is never used again.
      stems.replenish();
      await cell.destroy('specialization failed');
      if (err instanceof ContainerStartError && err.reason === 'init_error') throw err;
      this.warn(`stem cell ${cell.id} could not be specialized for ${fn.name}, starting cold: ${(err as Error).message}`);
      return undefined;
    }
  }

  private functionFiles(digest: string): Promise<Record<string, string>> {
    let files = this.filesCache.get(digest);
    if (!files) {
      files = this.opts.layerDirs(digest).then((dirs) => readFunctionFiles(dirs[0]!));
      files.catch(() => this.filesCache.delete(digest));
      if (this.filesCache.size >= FILES_CACHE_SIZE) this.filesCache.delete(this.filesCache.keys().next().value!);
      this.filesCache.set(digest, files);
    }
    return files;
  }

  private release(pooled: PooledContainer): void {
    if (pooled.replenishStemCells) {
      pooled.replenishStemCells = false;
      this.stems?.replenish();
    }
    pooled.inFlight--;
    pooled.idleSince = Date.now();
    if (pooled.retiring && pooled.inFlight === 0) {
      void this.destroy(pooled, 'retired');
      return;
    }
    this.dispatch();
  }

  /** Hands free capacity to waiting callers, oldest first; one that cannot proceed does not block the rest. */
  private dispatch(): void {
    for (let i = 0; i < this.waiters.length; ) {
      const waiter = this.waiters[i]!;
      const lease = this.closed ? undefined : this.tryAcquire(waiter.fn);
      if (!lease) {
        i++;
        continue;
      }
      this.waiters.splice(i, 1);
      clearTimeout(waiter.timer);
      lease.then(waiter.resolve, waiter.reject);
    }
  }

  private forget(pooled: PooledContainer): void {
    const group = this.byFunction.get(pooled.fn.name);
    if (!group?.delete(pooled)) return;
    if (group.size === 0) this.byFunction.delete(pooled.fn.name);
    this.dispatch();
  }

  private async destroy(pooled: PooledContainer, reason: string): Promise<void> {
    this.dying.add(pooled);
    this.forget(pooled);
    try {
      await pooled.container?.destroy(reason);
    } finally {
      this.dying.delete(pooled);
      if (!this.closed) {
        this.dispatch();
        this.topUp();
      }
    }
  }

  /**
   * Containers of `name` that are not at `keepVersion` stop taking work; idle ones go now, busy
   * ones when their in-flight invocations finish. Without `keepVersion` the whole function goes.
   */
  async retire(name: string, keepVersion?: number): Promise<void> {
    const doomed: Promise<void>[] = [];
    for (const pooled of this.byFunction.get(name) ?? []) {
      if (pooled.fn.version === keepVersion) continue;
      pooled.retiring = true;
      if (pooled.isIdle()) doomed.push(this.destroy(pooled, 'retired'));
    }
    if (keepVersion === undefined) {
      this.warmTargets.delete(name);
      const old = this.prepared.get(name);
      this.prepared.delete(name);
      if (old) await this.discardRootfs(old);
      for (const waiter of this.waiters.filter((w) => w.fn.name === name)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        clearTimeout(waiter.timer);
        waiter.reject(new Error(`function ${name} was removed`));
      }
    }
    await Promise.all(doomed);
  }

  private async tick(): Promise<void> {
    this.topUp();
    await this.reapIdle();
  }

  /** Starts containers for minWarm targets within the limits (never evicting for it). */
  private topUp(): void {
    if (this.closed) return;
    for (const fn of this.warmTargets.values()) {
      const group = this.group(fn.name);
      const current = [...group].filter((p) => p.fn.version === fn.version && !p.retiring).length;
      const live = [...group].filter((p) => !p.retiring).length;
      const want = Math.min(fn.config.minWarm - current, fn.config.maxContainers - live);
      for (let i = 0; i < want && this.fits(fn.config.memoryMb); i++) {
        this.startContainer(fn, { reserve: false, useStemCell: false }).catch((err: unknown) => {
          if (!this.closed) this.warn(`prewarming ${fn.name} v${fn.version} failed: ${(err as Error).message}`);
        });
      }
    }
  }

  private async reapIdle(): Promise<void> {
    const now = Date.now();
    const doomed: PooledContainer[] = [];
    for (const group of this.byFunction.values()) {
      // The most recently used stay: minWarm of them are kept however long they idle.
      const sorted = [...group].sort((a, b) => b.idleSince - a.idleSince);
      let kept = 0;
      for (const pooled of sorted) {
        const target = this.warmTargets.get(pooled.fn.name);
        const protectedWarm = target !== undefined && target.version === pooled.fn.version && !pooled.retiring && kept < target.config.minWarm;
        if (protectedWarm) {
          kept++;
          continue;
        }
        if (pooled.isIdle() && now - pooled.idleSince >= pooled.fn.config.idleTimeoutMs) doomed.push(pooled);
      }
    }
    await Promise.all(doomed.map((p) => this.destroy(p, 'idle timeout')));
  }

  /**
   * Image digests of every container the pool holds (starting, idle, busy or retiring): garbage
   * collection must not remove the layers under them.
   */
  liveDigests(): Set<string> {
    const digests = new Set<string>();
    for (const group of this.byFunction.values()) for (const p of group) digests.add(p.fn.digest);
    return digests;
  }

  /** Stem cells started and not yet taken. */
  get readyStemCells(): number {
    return this.stems?.size ?? 0;
  }

  snapshot(): PoolEntry[] {
    const now = Date.now();
    const entries: PoolEntry[] = [];
    for (const p of this.all()) {
      entries.push({
        id: p.id,
        function: p.fn.name,
        version: p.fn.version,
        state: p.state,
        retiring: p.retiring,
        fromStemCell: p.fromStemCell,
        inFlight: p.inFlight,
        invocations: p.served,
        ageMs: now - p.createdAt,
        idleSince: p.state === 'idle' ? new Date(p.idleSince).toISOString() : null,
        memoryMb: p.memoryMb,
      });
    }
    return entries.sort((a, b) => a.function.localeCompare(b.function) || a.id.localeCompare(b.id));
  }

  /** The snapshot plus what each container's cgroup uses now, the stem cells and the global limits. */
  async describe(): Promise<PoolDescription> {
    const byId = new Map(this.all().map((p) => [p.id, p]));
    const entries = this.snapshot();
    const containers = await Promise.all(
      entries.map(async (e) => ({ ...e, memoryBytes: (await byId.get(e.id)?.container?.memoryBytes()) ?? 0 })),
    );
    const u = this.usage();
    return {
      containers,
      stemCells: (await this.stems?.snapshot()) ?? [],
      limits: {
        maxContainers: this.opts.maxContainers ?? null,
        memoryBudgetMb: this.opts.memoryBudgetMb ?? null,
        containers: u.count,
        memoryReservedMb: u.memoryMb,
        waiting: this.waiters.length,
      },
    };
  }

  /** Rejects waiters and destroys every container and stem cell (in-flight invocations end with an error). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.reaper);
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new Error('the pool is shutting down'));
    }
    const all = this.all();
    this.byFunction.clear();
    await Promise.all([...all.map((p) => p.container?.destroy('the pool is shutting down')), this.stems?.close()]);
  }
}
