/**
 * An in-memory container engine for the pool's unit tests: containers start, serve, and die on
 * command, with no runc, no mounts and no Redis. Tests hold invocations, starts and destroys open
 * with gates to observe the pool between the steps.
 */
import { parseFunctionConfig, type FunctionConfigInput } from '../../src/config/index.ts';
import type { PoolContainer, PoolFunction, PoolRuntime } from '../../src/pool/index.ts';
import type { ContainerExit, ContainerOptions, InvokeOutcome, InvokeRequest, SpecializeOptions } from '../../src/runtime/index.ts';

/** A promise the test resolves when it chooses. */
export class Gate {
  readonly promise: Promise<void>;
  open!: () => void;
  constructor() {
    this.promise = new Promise((resolve) => (this.open = resolve));
  }
}

/** The event a test sends: the invocation runs until `until` opens (at once without it). */
export interface FakeEvent {
  until?: Promise<void>;
}

export class FakeContainer implements PoolContainer {
  readonly createdAt = Date.now();
  readonly exited: Promise<ContainerExit>;
  /** Why it was destroyed, once destroy() was called. */
  destroyReason: string | undefined;
  /** Whether destroy() has finished (the container is really gone). */
  gone = false;
  specializedFor: SpecializeOptions | undefined;
  invocations = 0;
  private running = true;
  private resolveExited!: (e: ContainerExit) => void;

  constructor(
    readonly id: string,
    readonly options: ContainerOptions,
    private readonly runtime: FakeRuntime,
  ) {
    this.exited = new Promise((resolve) => (this.resolveExited = resolve));
  }

  get alive(): boolean {
    return this.running;
  }

  async invoke(req: InvokeRequest): Promise<InvokeOutcome> {
    this.invocations++;
    await (req.event as FakeEvent | undefined)?.until;
    return { ok: true, result: { container: this.id }, logs: [], durationMs: 0 };
  }

  invokeHttp(req: InvokeRequest): Promise<InvokeOutcome> {
    return this.invoke(req);
  }

  async specialize(s: SpecializeOptions): Promise<void> {
    this.specializedFor = s;
  }

  async memoryBytes(): Promise<number> {
    return this.running ? this.options.memoryMb * 1024 * 1024 : 0;
  }

  async destroy(reason = 'container destroyed'): Promise<void> {
    this.destroyReason ??= reason;
    this.running = false;
    await this.runtime.destroyGate?.promise;
    this.gone = true;
    this.resolveExited({ code: null, signal: 'SIGKILL', oomKilled: false });
  }

  /** The container dies by itself (a crash), as runc's exit would report it. */
  crash(): void {
    this.running = false;
    this.gone = true;
    this.resolveExited({ code: 1, signal: null, oomKilled: false });
  }
}

export class FakeRuntime implements PoolRuntime {
  readonly created: FakeContainer[] = [];
  /** While set and closed, createContainer does not return. */
  startGate: Gate | undefined;
  /** While set and closed, destroy() does not finish: the container is dying but not gone. */
  destroyGate: Gate | undefined;

  async createContainer(opts: ContainerOptions): Promise<FakeContainer> {
    const container = new FakeContainer(opts.id, opts, this);
    this.created.push(container);
    await this.startGate?.promise;
    return container;
  }

  readonly precompiles: { key: string; layerDirs: string[]; memoryMb: number }[] = [];

  prepareCodeCache(r: { key: string; layerDirs: string[]; memoryMb: number }): void {
    this.precompiles.push(r);
  }

  readonly discardedCaches: string[] = [];

  async discardCodeCache(key: string): Promise<void> {
    this.discardedCaches.push(key);
  }

  /** Containers of `functionName` not destroyed (stem cells have functionName "stem"). */
  live(functionName?: string): FakeContainer[] {
    return this.created.filter((c) => c.alive && (functionName === undefined || c.options.functionName === functionName));
  }
}

/** A function at a version, with the config's documented defaults for everything not given. */
export function fakeFunction(name: string, config: FunctionConfigInput = {}, version = 1): PoolFunction {
  return { name, version, digest: `sha256:${name}-v${version}`, config: parseFunctionConfig(config) };
}

/** Layer dirs the fake image store answers for a digest. */
export const fakeLayerDirs = async (digest: string): Promise<string[]> => [`/layers/${digest}/top`, '/layers/base'];

/** An invoke request whose deadline is `ms` from now and which holds its container until `until` opens. */
export function request(ms = 10_000, until?: Promise<void>): InvokeRequest {
  return { invocationId: `inv-${Math.random().toString(36).slice(2)}`, event: { until } satisfies FakeEvent, deadline: Date.now() + ms };
}
