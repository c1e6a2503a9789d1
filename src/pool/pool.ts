import { randomBytes } from 'node:crypto';
import type { Container, HttpRequestHead, HttpSink, InvokeOutcome, InvokeRequest, Runtime } from '../runtime/index.ts';
import { PooledContainer, type ContainerState, type PoolFunction } from './pooled-container.ts';

export interface PoolOptions {
  runtime: Runtime;
  /** Unpacked layer dirs of an image, top-most first (from the image store). */
  layerDirs: (digest: string) => Promise<string[]>;
  /** How often the idle reaper looks; idle timeouts are honoured to this precision. */
  reapIntervalMs?: number;
  /** Decrypted values of the secrets a function's config names (mounted at /run/secrets). */
  secretsFor?: (names: string[]) => Promise<Record<string, string>>;
}

export interface RunResult {
  outcome: InvokeOutcome;
  coldStart: boolean;
  containerId: string | null;
}

export interface PoolEntry {
  id: string;
  function: string;
  version: number;
  state: ContainerState;
  retiring: boolean;
  inFlight: number;
  invocations: number;
  ageMs: number;
  idleSince: string | null;
}

interface Waiter {
  fn: PoolFunction;
  resolve: (lease: Lease) => void;
  reject: (err: Error) => void;
}

interface Lease {
  pooled: PooledContainer;
  coldStart: boolean;
}

/**
 * Warm containers per function: a container that finished an invocation serves the next one of
 * the same function version; at most `maxContainers` per function; idle ones are reaped after
 * `idleTimeoutMs`. Callers beyond capacity wait in FIFO order for a free slot.
 */
export class Pool {
  private readonly byFunction = new Map<string, Set<PooledContainer>>();
  private readonly waiters = new Map<string, Waiter[]>();
  private reaper: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly opts: PoolOptions) {}

  start(): void {
    this.reaper = setInterval(() => void this.reapIdle(), this.opts.reapIntervalMs ?? 250);
    this.reaper.unref();
  }

  /** Runs one invocation in a warm container, starting one if needed. Never throws for function failures. */
  async run(fn: PoolFunction, req: InvokeRequest): Promise<RunResult> {
    let lease: Lease;
    try {
      lease = await this.acquire(fn);
    } catch (err) {
      return {
        outcome: { ok: false, error: { code: 'function_error', message: (err as Error).message }, logs: [], durationMs: 0 },
        coldStart: true,
        containerId: null,
      };
    }
    const { pooled, coldStart } = lease;
    try {
      const outcome = await pooled.container!.invoke(req);
      return { outcome, coldStart, containerId: pooled.id };
    } finally {
      this.release(pooled);
    }
  }

  /**
   * Runs an HTTP-trigger invocation the same way: `onLease` hears whether it is a cold start
   * before the response begins; the lease is held until the response body has ended.
   */
  async runHttp(
    fn: PoolFunction,
    req: InvokeRequest,
    http: { request: HttpRequestHead; body?: Uint8Array; env: Record<string, string> },
    sink: HttpSink & { onLease?: (coldStart: boolean) => void },
  ): Promise<RunResult> {
    let lease: Lease;
    try {
      lease = await this.acquire(fn);
    } catch (err) {
      return {
        outcome: { ok: false, error: { code: 'function_error', message: (err as Error).message }, logs: [], durationMs: 0 },
        coldStart: true,
        containerId: null,
      };
    }
    const { pooled, coldStart } = lease;
    sink.onLease?.(coldStart);
    try {
      const outcome = await pooled.container!.invokeHttp(req, http, sink);
      return { outcome, coldStart, containerId: pooled.id };
    } finally {
      this.release(pooled);
    }
  }

  private group(name: string): Set<PooledContainer> {
    let group = this.byFunction.get(name);
    if (!group) {
      group = new Set();
      this.byFunction.set(name, group);
    }
    return group;
  }

  private acquire(fn: PoolFunction): Promise<Lease> {
    if (this.closed) return Promise.reject(new Error('the pool is shutting down'));
    const warm = this.findWarm(fn);
    if (warm) {
      warm.inFlight++;
      return Promise.resolve({ pooled: warm, coldStart: false });
    }
    if (this.group(fn.name).size < fn.config.maxContainers) return this.startContainer(fn);
    return new Promise((resolve, reject) => {
      const queue = this.waiters.get(fn.name) ?? [];
      queue.push({ fn, resolve, reject });
      this.waiters.set(fn.name, queue);
    });
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

  private async startContainer(fn: PoolFunction): Promise<Lease> {
    const id = `${fn.name}-v${fn.version}-${randomBytes(4).toString('hex')}`;
    const pooled = new PooledContainer(id, fn, Date.now());
    pooled.inFlight = 1; // reserved for the caller that caused the start
    this.group(fn.name).add(pooled);
    try {
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
      pooled.container = container;
      void container.exited.then(() => this.forget(pooled));
      return { pooled, coldStart: true };
    } catch (err) {
      this.forget(pooled);
      throw err;
    }
  }

  private release(pooled: PooledContainer): void {
    pooled.inFlight--;
    pooled.served++;
    pooled.idleSince = Date.now();
    if (pooled.retiring && pooled.inFlight === 0) {
      void this.destroy(pooled);
      return;
    }
    this.dispatch(pooled.fn.name);
  }

  /** Hands free capacity to waiting callers, oldest first. */
  private dispatch(name: string): void {
    const queue = this.waiters.get(name);
    while (queue && queue.length > 0) {
      const waiter = queue[0]!;
      const warm = this.findWarm(waiter.fn);
      if (warm) {
        queue.shift();
        warm.inFlight++;
        waiter.resolve({ pooled: warm, coldStart: false });
        continue;
      }
      if (this.group(name).size < waiter.fn.config.maxContainers) {
        queue.shift();
        this.startContainer(waiter.fn).then(waiter.resolve, waiter.reject);
        continue;
      }
      // A waiter for another version may be stuck behind containers of the current one: make room.
      const idleOther = [...this.group(name)].find((p) => p.state === 'idle' && p.fn.version !== waiter.fn.version);
      if (idleOther) {
        void this.destroy(idleOther);
      }
      break;
    }
  }

  private forget(pooled: PooledContainer): void {
    const group = this.byFunction.get(pooled.fn.name);
    if (!group?.delete(pooled)) return;
    this.dispatch(pooled.fn.name);
  }

  private async destroy(pooled: PooledContainer): Promise<void> {
    this.forget(pooled);
    await pooled.container?.destroy();
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
      if (pooled.state === 'idle') doomed.push(this.destroy(pooled));
    }
    if (keepVersion === undefined) {
      for (const waiter of this.waiters.get(name) ?? []) waiter.reject(new Error(`function ${name} was removed`));
      this.waiters.delete(name);
    }
    await Promise.all(doomed);
  }

  private async reapIdle(): Promise<void> {
    const now = Date.now();
    const doomed: PooledContainer[] = [];
    for (const group of this.byFunction.values()) {
      for (const pooled of group) {
        if (pooled.state === 'idle' && now - pooled.idleSince >= pooled.fn.config.idleTimeoutMs) doomed.push(pooled);
      }
    }
    await Promise.all(doomed.map((p) => this.destroy(p)));
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

  snapshot(): PoolEntry[] {
    const now = Date.now();
    const entries: PoolEntry[] = [];
    for (const group of this.byFunction.values()) {
      for (const p of group) {
        entries.push({
          id: p.id,
          function: p.fn.name,
          version: p.fn.version,
          state: p.state,
          retiring: p.retiring,
          inFlight: p.inFlight,
          invocations: p.served,
          ageMs: now - p.createdAt,
          idleSince: p.state === 'idle' ? new Date(p.idleSince).toISOString() : null,
        });
      }
    }
    return entries.sort((a, b) => a.function.localeCompare(b.function) || a.id.localeCompare(b.id));
  }

  /** Rejects waiters and destroys every container (in-flight invocations end with an error). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.reaper);
    for (const queue of this.waiters.values()) for (const w of queue) w.reject(new Error('the pool is shutting down'));
    this.waiters.clear();
    const all = [...this.byFunction.values()].flatMap((g) => [...g]);
    this.byFunction.clear();
    await Promise.all(all.map((p) => p.container?.destroy()));
  }
}
