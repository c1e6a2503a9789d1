/**
 * One running container: the foreground `runc run` process, the agent channel on its fd 3, and
 * the invocations in flight. It owns its runc process and all its residue: destroy() (or the
 * container exiting by itself) removes the runc state, the cgroup, the rootfs mount and the bundle.
 */
import { killCgroup, readMemoryUsage, readOomKills, setMemoryLimit } from './cgroups.ts';
import { cacheMode } from './agent-launch.ts';
import { NdjsonChannel } from './channel.ts';
import type { CodeCacheKind, CodeCacheStore } from './code-cache-store.ts';
import { removeResidue } from './cleanup.ts';
import { outputEnded, readOutputLines } from './container-output.ts';
import { settlesWithin } from '../time-bound/index.ts';
import { DeadlineWait } from './deadline.ts';
import { InvocationTable, failure } from './invocations.ts';
import { RecentLines } from './logs.ts';
import { MAX_MESSAGE_BYTES, type AgentMessage, type HostMessage, type HttpRequestHead, type InvokeContext } from './protocol.ts';
import type { Runc, RuncProcess } from './runc.ts';
import { ContainerStartError, exitedBeforeReady, initFailure, type InitError } from './start-error.ts';
import type { ContainerExit, HttpSink, InvokeOutcome, InvokeRequest } from './types.ts';

export interface SpecializeOptions {
  functionName: string;
  version: number;
  /** The function's files (relative path → content), `index.cjs` or `index.mjs` the entry. */
  files: Record<string, Buffer>;
  env: Record<string, string>;
  memoryMb: number;
  /** Default 10000. */
  timeoutMs?: number;
  /**
   * As ContainerOptions.codeCacheKey: the cell loads the bundle with the code cache the runtime
   * keeps under this key, or makes one after its first invocation, as a cold start would.
   */
  codeCacheKey?: string;
}

export interface ContainerDeps {
  id: string;
  runc: Runc;
  process: RuncProcess;
  cgroupPath: string;
  bundleDir: string;
  runcLogFile: string;
  functionName: string;
  version: number;
  /** Called once, after the container is fully cleaned up. */
  onGone: (c: Container) => void;
  /** The runtime's code caches: where a cache the agent makes is stored, and what a stem cell is sent. */
  codeCaches?: Pick<CodeCacheStore, 'get' | 'put'>;
  /** Under which key a cache this container's agent makes is stored (it was started to make one). Absent: such a message is ignored. */
  codeCacheTarget?: CodeCacheTarget;
  warn: (message: string) => void;
}

type State = 'starting' | 'ready' | 'stopping' | 'gone';

interface CodeCacheTarget {
  key: string;
  kind: CodeCacheKind;
}

/** How long to wait for runc to exit after its container was killed before killing runc itself. */
const KILL_GRACE_MS = 3000;
/** After the agent closes fd 3, the container should exit on its own; if not, it is destroyed. */
const CHANNEL_CLOSED_GRACE_MS = 2000;
/** 'exit' can beat the last stderr bytes (node's "heap out of memory" banner): this long to drain them. */
const OUTPUT_DRAIN_MS = 200;
const HEAP_OOM = /heap out of memory/i;

export class Container {
  readonly id: string;
  readonly createdAt = Date.now();
  readonly exited: Promise<ContainerExit>;

  private state: State = 'starting';
  private readonly invocations: InvocationTable;
  private readonly channel: NdjsonChannel<HostMessage, AgentMessage>;
  private readonly recent = new RecentLines();
  private heapOom = false;
  private initError: InitError | undefined;
  private destroyReason: string | undefined;
  private runcExit: { code: number | null; signal: string | null } | undefined;
  private readonly runcExited: Promise<void>;
  private finalizing: Promise<ContainerExit> | undefined;
  private destroying: Promise<void> | undefined;
  private ready: DeadlineWait | undefined;
  private specializing: DeadlineWait | undefined;
  /** Which function this container serves: fixed at start, or set once by specialize(). */
  private functionName: string;
  private version: number;
  private specialized = false;
  private codeCacheTaken = false;
  /** Where a code cache the agent makes goes: fixed at start, or set by specialize(). */
  private codeCacheTarget: CodeCacheTarget | undefined;
  /** What V8 made of the code cache this container was sent (undefined: none sent). */
  codeCache: 'accepted' | 'rejected' | undefined;
  private resolveExited!: (e: ContainerExit) => void;

  constructor(private readonly deps: ContainerDeps) {
    this.id = deps.id;
    this.functionName = deps.functionName;
    this.version = deps.version;
    this.codeCacheTarget = deps.codeCacheTarget;
    this.exited = new Promise((r) => (this.resolveExited = r));
    const proc = deps.process;

    this.channel = new NdjsonChannel<HostMessage, AgentMessage>(proc.extraFd, MAX_MESSAGE_BYTES, {
      onMessage: (m) => this.onMessage(m),
      onProtocolError: (reason) => void this.destroy(`agent protocol error: ${reason}`),
      onClose: () => {
        if (this.runcExit) return;
        setTimeout(() => {
          if (!this.runcExit) void this.destroy('agent channel closed but the container did not exit');
        }, CHANNEL_CLOSED_GRACE_MS).unref();
      },
    });
    this.invocations = new InvocationTable({
      containerId: this.id,
      send: (m) => this.channel.send(m),
      onDeadline: (invocationId) => this.destroy(`another invocation (${invocationId}) timed out`),
    });

    readOutputLines(proc.stdout, (line) => this.onOutput('stdout', line));
    readOutputLines(proc.stderr, (line) => this.onOutput('stderr', line));

    this.runcExited = new Promise((resolve) => {
      const onExit = (code: number | null, signal: string | null): void => {
        if (this.runcExit) return;
        this.runcExit = { code, signal };
        resolve();
        void this.finalize();
      };
      proc.once('exit', onExit);
    });
  }

  get alive(): boolean {
    return this.state === 'ready';
  }

  get inFlight(): number {
    return this.invocations.size;
  }

  /** Resolves when the agent reported ready; rejects (without cleaning up) on init error, exit or timeout. */
  waitReady(timeoutMs: number): Promise<void> {
    if (this.state === 'ready') return Promise.resolve();
    this.ready = new DeadlineWait(
      timeoutMs,
      () => new ContainerStartError('timeout', `container ${this.id} did not report ready within ${timeoutMs} ms`, this.recent.text()),
    );
    return this.ready.promise;
  }

  invoke(req: InvokeRequest): Promise<InvokeOutcome> {
    return this.dispatch(req, (id) => ({ type: 'invoke', id, event: req.event, ctx: this.contextFor(req) }));
  }

  /**
   * An HTTP invocation (the HTTP trigger): the response head and body chunks go to `sink` as the
   * agent sends them; the outcome resolves when the body has ended (result null) or failed.
   */
  invokeHttp(
    req: InvokeRequest,
    http: { request: HttpRequestHead; body?: Uint8Array; env: Record<string, string> },
    sink: HttpSink,
  ): Promise<InvokeOutcome> {
    return this.dispatch(
      req,
      (id) => ({
        type: 'http',
        id,
        ctx: this.contextFor(req),
        request: http.request,
        ...(http.body && http.body.length > 0 ? { body: Buffer.from(http.body).toString('base64') } : {}),
        env: http.env,
      }),
      sink,
    );
  }

  private contextFor(req: InvokeRequest): InvokeContext {
    return { invocationId: req.invocationId, functionName: this.functionName, version: this.version, deadline: req.deadline };
  }

  private dispatch(req: InvokeRequest, build: (id: string) => HostMessage, sink?: HttpSink): Promise<InvokeOutcome> {
    if (this.state !== 'ready') return Promise.resolve(failure('internal', `container ${this.id} is not running`, performance.now()));
    return this.invocations.dispatch(req, build, sink);
  }

  /**
   * Makes a stem cell (started from the base layer only) one function's container, for life:
   * sets the cgroup memory limit to the function's (as runc update does), then the agent writes
   * the code under its own /tmp, sets the env and imports it, so the function's own code never runs
   * under the cell's limit. Rejects on an init error, exit or timeout; the caller then destroys
   * the container (a half-specialized stem cell is never reused).
   */
  async specialize(s: SpecializeOptions): Promise<void> {
    if (this.state !== 'ready') throw new ContainerStartError('exited', `container ${this.id} is not running`);
    if (this.specialized || this.invocations.size > 0) throw new Error(`container ${this.id} is not a fresh stem cell`);
    this.specialized = true;
    const bytes = s.memoryMb * 1024 * 1024;
    const key = this.deps.codeCaches ? s.codeCacheKey : undefined;
    const [, cache] = await Promise.all([
      setMemoryLimit(this.deps.cgroupPath, bytes).then(async (set) => set || (await this.deps.runc.updateMemory(this.id, bytes))),
      // A cache that cannot be read only costs the load its speed.
      key ? this.deps.codeCaches?.get(key).catch(() => undefined) : undefined,
    ]);
    if (this.state !== 'ready') throw new ContainerStartError('exited', `container ${this.id} exited while specializing`);
    if (key) this.codeCacheTarget = { key, kind: 'ran' };
    this.functionName = s.functionName;
    this.version = s.version;
    const timeoutMs = s.timeoutMs ?? 10_000;
    const loaded = new DeadlineWait(
      timeoutMs,
      () => new ContainerStartError('timeout', `stem cell ${this.id} did not load ${s.functionName} within ${timeoutMs} ms`, this.recent.text()),
    );
    this.specializing = loaded;
    const files = Object.entries(s.files);
    const sent = this.channel.sendWithAttachment(
      {
        type: 'specialize', functionName: s.functionName, version: s.version, files: files.map(([path, data]) => ({ path, bytes: data.length })), env: s.env, memoryMb: s.memoryMb,
        ...(key ? { codeCache: { mode: cacheMode(cache), bytes: cache?.data.length ?? 0 } } : {}),
      },
      Buffer.concat([...files.map(([, data]) => data), ...(cache ? [cache.data] : [])]),
    );
    if (!sent) loaded.reject(new ContainerStartError('exited', `container ${this.id} is not running`));
    return loaded.promise;
  }

  /** Hands the agent its bundle's code cache: must be the first message (`--code-cache=follows`). */
  sendCodeCache(data: Buffer): void {
    this.channel.send({ type: 'code_cache', data: data.toString('base64') });
  }

  memoryBytes(): Promise<number> {
    if (this.state === 'gone') return Promise.resolve(0);
    return readMemoryUsage(this.deps.cgroupPath);
  }

  /**
   * Idempotent. Kills the container's processes (through its cgroup: tini is pid 1, so the pid
   * namespace goes with it), waits for runc to exit, then removes every trace. In-flight
   * invocations end as internal.
   */
  destroy(reason = 'container destroyed'): Promise<void> {
    this.destroying ??= (async () => {
      this.destroyReason ??= reason;
      if (this.state === 'starting' || this.state === 'ready') this.state = 'stopping';
      if (!this.runcExit) {
        // Nothing in its cgroup yet (still starting): killing runc is all we can do.
        const killed = (await killCgroup(this.deps.cgroupPath).catch(() => 0)) > 0;
        if (!killed || !(await settlesWithin(this.runcExited, KILL_GRACE_MS))) {
          // Killing runc can leave `runc init` frozen; finalize's residue removal deals with that.
          this.deps.process.kill('SIGKILL');
          if (!(await settlesWithin(this.runcExited, KILL_GRACE_MS))) {
            this.runcExit = { code: null, signal: 'SIGKILL' };
            void this.finalize();
          }
        }
      }
      await this.exited;
    })();
    return this.destroying;
  }

  private onMessage(m: AgentMessage): void {
    switch (m.type) {
      case 'ready':
        if (this.state === 'starting') {
          this.codeCache = m.codeCache;
          this.state = 'ready';
          this.ready?.resolve();
        }
        return;
      case 'init_error':
        this.initError = { message: m.message, stack: m.stack };
        this.ready?.reject(initFailure(this.initError, this.recent.text()));
        this.specializing?.reject(initFailure(this.initError, this.recent.text()));
        return;
      case 'specialized':
        if (this.specializing) this.codeCache = m.codeCache;
        this.specializing?.resolve();
        return;
      case 'code_cache':
        // One per container, and only when asked for: the bytes are stored, never read here.
        if (this.codeCacheTaken || !this.codeCacheTarget || !this.deps.codeCaches) return;
        this.codeCacheTaken = true;
        this.deps.codeCaches.put(this.codeCacheTarget.key, Buffer.from(m.data, 'base64'), this.codeCacheTarget.kind).catch((e: Error) => this.deps.warn(`storing a code cache: ${e.message}`));
        return;
      case 'log': {
        const logs = this.invocations.logsFor(m.id);
        if (logs) logs.add(m.stream, m.line, m.time);
        else this.recent.add(m.line);
        return;
      }
      case 'result':
        this.invocations.onResult(m);
        return;
      case 'http_head':
        this.invocations.onHttpHead(m.id, m.status, m.headers);
        return;
      case 'http_chunk':
        this.invocations.onHttpChunk(m.id, m.data);
        return;
      case 'http_end':
        this.invocations.onHttpEnd(m.id);
        return;
      default:
        // A newer agent's message type: ignore rather than break.
        return;
    }
  }

  /** Raw output goes to the one invocation in flight if any; stderr is also kept to explain a failed start. */
  private onOutput(stream: 'stdout' | 'stderr', line: string): void {
    if (stream === 'stderr' && HEAP_OOM.test(line)) this.heapOom = true;
    const logs = this.invocations.logsFor(null);
    if (logs) logs.add(stream, line);
    if (!logs || stream === 'stderr') this.recent.add(line);
  }

  /** Runs once, when runc has exited: explain the exit, fail what was in flight, clean up. */
  private finalize(): Promise<ContainerExit> {
    this.finalizing ??= (async () => {
      const { code, signal } = this.runcExit ?? { code: null, signal: null };
      this.state = 'gone';
      await settlesWithin(outputEnded(this.deps.process), OUTPUT_DRAIN_MS);
      // --keep left the cgroup in place so its OOM counter is still readable here.
      const oomKills = await readOomKills(this.deps.cgroupPath).catch(() => null);
      const oomKilled = (oomKills ?? 0) > 0 || this.heapOom;
      const how = signal ? `signal ${signal}` : `code ${code}`;

      if (oomKilled) this.invocations.failAll('out_of_memory', 'the function ran out of memory');
      else this.invocations.failAll('internal', this.destroyReason ?? `container exited (${how})`);
      const cause = oomKilled ? 'out of memory' : how;
      this.specializing?.reject(
        this.initError
          ? initFailure(this.initError, this.recent.text())
          : new ContainerStartError('exited', `stem cell ${this.id} exited while specializing (${cause})`, this.recent.text()),
      );
      if (this.ready?.pending) {
        this.ready.reject(
          this.initError ? initFailure(this.initError, this.recent.text()) : await exitedBeforeReady(this.id, cause, this.recent.text(), this.deps.runcLogFile),
        );
      }

      this.channel.close();
      const problems = await removeResidue({
        stopped: true,
        runc: this.deps.runc,
        id: this.id,
        cgroupPath: this.deps.cgroupPath,
        bundleDir: this.deps.bundleDir,
      });
      if (problems.length) this.deps.warn(`container ${this.id}: incomplete clean-up: ${problems.join('; ')}`);
      this.deps.onGone(this);
      const exit: ContainerExit = { code, signal, oomKilled };
      this.resolveExited(exit);
      return exit;
    })();
    return this.finalizing;
  }
}
