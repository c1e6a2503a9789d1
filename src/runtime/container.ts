/**
 * One running container: the foreground `runc run` process, the agent channel on its fd 3, and
 * the invocations in flight. It owns its runc process and all its residue: destroy() (or the
 * container exiting by itself) removes the runc state, the cgroup, the rootfs mount and the bundle.
 */
import { readFile } from 'node:fs/promises';
import { readMemoryUsage, readOomKills, setMemoryLimit } from './cgroups.ts';
import { LineSplitter, NdjsonChannel } from './channel.ts';
import { removeResidue } from './cleanup.ts';
import { LogBuffer, RecentLines } from './logs.ts';
import {
  MAX_LOG_LINE_BYTES,
  MAX_MESSAGE_BYTES,
  type AgentMessage,
  type HostMessage,
  type HttpRequestHead,
} from './protocol.ts';
import type { Runc, RuncProcess } from './runc.ts';
import type { ContainerExit, HttpSink, InvokeErrorCode, InvokeOutcome, InvokeRequest } from './types.ts';

export type StartFailure = 'init_error' | 'exited' | 'timeout';

export interface SpecializeOptions {
  functionName: string;
  version: number;
  /** The function's files (relative path → source), `index.mjs` the entry. */
  files: Record<string, string>;
  env: Record<string, string>;
  memoryMb: number;
  /** Default 10000. */
  timeoutMs?: number;
}

/** Why createContainer failed; `message` carries the agent's init error or the container's last output. */
export class ContainerStartError extends Error {
  constructor(
    readonly reason: StartFailure,
    message: string,
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'ContainerStartError';
  }
}

export interface ContainerDeps {
  id: string;
  runc: Runc;
  process: RuncProcess;
  cgroupPath: string;
  bundleDir: string;
  /** Where its rootfs is mounted (unmounted with the rest of its residue). */
  rootfsPath: string;
  runcLogFile: string;
  functionName: string;
  version: number;
  /** Called once, after the container is fully cleaned up. */
  onGone: (c: Container) => void;
  warn: (message: string) => void;
}

interface Pending {
  id: string;
  invocationId: string;
  started: number;
  logs: LogBuffer;
  timer: NodeJS.Timeout;
  resolve: (o: InvokeOutcome) => void;
  /** Set for `http` invocations: where the streamed response goes. */
  http?: HttpSink;
}

type State = 'starting' | 'ready' | 'stopping' | 'gone';

/** How long to wait for runc to exit after `runc kill` before killing runc itself. */
const KILL_GRACE_MS = 3000;
/** After the agent closes fd 3, the container should exit on its own; if not, it is destroyed. */
const CHANNEL_CLOSED_GRACE_MS = 2000;
const HEAP_OOM = /heap out of memory/i;
const MAX_TIMER_MS = 2 ** 31 - 1;

export class Container {
  readonly id: string;
  readonly createdAt = Date.now();
  readonly exited: Promise<ContainerExit>;

  private state: State = 'starting';
  private readonly pending = new Map<string, Pending>();
  private seq = 0;
  private readonly channel: NdjsonChannel<HostMessage, AgentMessage>;
  private readonly recent = new RecentLines();
  private heapOom = false;
  private initError: { message: string; stack?: string } | undefined;
  private destroyReason: string | undefined;
  private runcExit: { code: number | null; signal: string | null } | undefined;
  private readonly runcExited: Promise<void>;
  private finalizing: Promise<ContainerExit> | undefined;
  private destroying: Promise<void> | undefined;
  private ready: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private specializing: { resolve: () => void; reject: (e: Error) => void } | undefined;
  /** Which function this container serves: fixed at start, or set once by specialize(). */
  private functionName: string;
  private version: number;
  private specialized = false;
  private resolveExited!: (e: ContainerExit) => void;

  constructor(private readonly deps: ContainerDeps) {
    this.id = deps.id;
    this.functionName = deps.functionName;
    this.version = deps.version;
    this.exited = new Promise((r) => (this.resolveExited = r));
    const proc = deps.process;

    this.channel = new NdjsonChannel<HostMessage, AgentMessage>(proc.stdio[3], MAX_MESSAGE_BYTES, {
      onMessage: (m) => this.onMessage(m),
      onProtocolError: (reason) => void this.destroy(`agent protocol error: ${reason}`),
      onClose: () => {
        if (this.runcExit) return;
        setTimeout(() => {
          if (!this.runcExit) void this.destroy('agent channel closed but the container did not exit');
        }, CHANNEL_CLOSED_GRACE_MS).unref();
      },
    });

    this.pipeStdio(proc.stdout, 'stdout');
    this.pipeStdio(proc.stderr, 'stderr');

    this.runcExited = new Promise((resolve) => {
      const onExit = (code: number | null, signal: string | null): void => {
        if (this.runcExit) return;
        this.runcExit = { code, signal };
        resolve();
        void this.finalize();
      };
      proc.once('exit', onExit);
      // Spawn failure (e.g. runc binary missing): no 'exit' follows.
      proc.once('error', (e) => {
        this.recent.add(`[hearth] runc: ${e.message}`);
        onExit(null, null);
      });
    });
  }

  get alive(): boolean {
    return this.state === 'ready';
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** Resolves when the agent reported ready; rejects (without cleaning up) on init error, exit or timeout. */
  waitReady(timeoutMs: number): Promise<void> {
    if (this.state === 'ready') return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.ready = undefined;
        reject(new ContainerStartError('timeout', `container ${this.id} did not report ready within ${timeoutMs} ms`, this.recent.text()));
      }, timeoutMs);
      this.ready = {
        resolve: () => {
          clearTimeout(timer);
          this.ready = undefined;
          resolve();
        },
        reject: (e) => {
          clearTimeout(timer);
          this.ready = undefined;
          reject(e);
        },
      };
    });
  }

  invoke(req: InvokeRequest): Promise<InvokeOutcome> {
    return this.dispatch(req, (id) => ({
      type: 'invoke',
      id,
      event: req.event,
      ctx: this.contextFor(req),
    }));
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

  private contextFor(req: InvokeRequest) {
    return {
      invocationId: req.invocationId,
      functionName: this.functionName,
      version: this.version,
      deadline: req.deadline,
    };
  }

  private dispatch(req: InvokeRequest, build: (id: string) => HostMessage, sink?: HttpSink): Promise<InvokeOutcome> {
    const started = performance.now();
    if (this.state !== 'ready') return Promise.resolve(failure('internal', `container ${this.id} is not running`, started));
    if (!Number.isFinite(req.deadline)) return Promise.resolve(failure('internal', `invalid deadline ${req.deadline}`, started));
    // setTimeout fires at once for delays past 2^31-1 ms; no invocation runs 24 days anyway.
    const remaining = Math.min(req.deadline - Date.now(), MAX_TIMER_MS);
    // Nothing ran, so the container is fine: no need to destroy it.
    if (remaining <= 0) return Promise.resolve(failure('timeout', 'deadline passed before the invocation started', started));

    const id = String(++this.seq);
    return new Promise<InvokeOutcome>((resolve) => {
      const p: Pending = {
        id,
        invocationId: req.invocationId,
        started,
        logs: new LogBuffer(),
        resolve,
        timer: setTimeout(() => void this.onTimeout(p, remaining), remaining),
        ...(sink ? { http: sink } : {}),
      };
      this.pending.set(id, p);
      let sent: boolean;
      try {
        sent = this.channel.send(build(id));
      } catch (e) {
        this.settle(p, failure('internal', `event is not JSON-serializable: ${(e as Error).message}`, started));
        return;
      }
      if (!sent) this.settle(p, failure('internal', `container ${this.id} is not running`, started));
    });
  }

  /**
   * Makes a stem cell (started from the base layer only) one function's container, for life:
   * sets the cgroup memory limit to the function's (as runc update does), then the agent writes
   * the code under its own /tmp, sets the env and imports it, so the function's own code never runs
   * under the cell's limit. Rejects on an init error, exit or timeout; the caller then destroys
   * the container (a half-specialized stem cell is never reused).
   */
  async specialize(s: SpecializeOptions): Promise<void> {
    if (this.state !== 'ready') return Promise.reject(new ContainerStartError('exited', `container ${this.id} is not running`));
    if (this.specialized || this.pending.size > 0) return Promise.reject(new Error(`container ${this.id} is not a fresh stem cell`));
    this.specialized = true;
    const bytes = s.memoryMb * 1024 * 1024;
    if (!(await setMemoryLimit(this.deps.cgroupPath, bytes))) await this.deps.runc.updateMemory(this.id, bytes);
    if (this.state !== 'ready') throw new ContainerStartError('exited', `container ${this.id} exited while specializing`);
    this.functionName = s.functionName;
    this.version = s.version;
    const timeoutMs = s.timeoutMs ?? 10_000;
    const loaded = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.specializing = undefined;
        reject(new ContainerStartError('timeout', `stem cell ${this.id} did not load ${s.functionName} within ${timeoutMs} ms`, this.recent.text()));
      }, timeoutMs);
      this.specializing = {
        resolve: () => {
          clearTimeout(timer);
          this.specializing = undefined;
          resolve();
        },
        reject: (e) => {
          clearTimeout(timer);
          this.specializing = undefined;
          reject(e);
        },
      };
    });
    const sent = this.channel.send({ type: 'specialize', functionName: s.functionName, version: s.version, files: s.files, env: s.env });
    if (!sent) this.specializing?.reject(new ContainerStartError('exited', `container ${this.id} is not running`));
    return loaded;
  }

  memoryBytes(): Promise<number> {
    if (this.state === 'gone') return Promise.resolve(0);
    return readMemoryUsage(this.deps.cgroupPath);
  }

  /**
   * Idempotent. Kills the container (runc kill KILL: tini is pid 1, so the pid namespace goes with
   * it), waits for runc to exit, then removes every trace. In-flight invocations end as internal.
   */
  destroy(reason = 'container destroyed'): Promise<void> {
    this.destroying ??= (async () => {
      this.destroyReason ??= reason;
      if (this.state === 'starting' || this.state === 'ready') this.state = 'stopping';
      if (!this.runcExit) {
        let killed = true;
        try {
          await this.deps.runc.kill(this.id, 'KILL');
        } catch {
          // Not known to runc yet (still starting) or already stopped: killing runc is all we can do.
          killed = false;
        }
        if (!killed || !(await this.waitRuncExit(KILL_GRACE_MS))) {
          // Killing runc can leave `runc init` frozen; finalize's residue removal deals with that.
          this.deps.process.kill('SIGKILL');
          if (!(await this.waitRuncExit(KILL_GRACE_MS))) {
            this.runcExit = { code: null, signal: 'SIGKILL' };
            void this.finalize();
          }
        }
      }
      await this.exited;
    })();
    return this.destroying;
  }

  private waitRuncExit(ms: number): Promise<boolean> {
    return Promise.race([this.runcExited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
  }

  private onMessage(m: AgentMessage): void {
    switch (m.type) {
      case 'ready':
        if (this.state === 'starting') {
          this.state = 'ready';
          this.ready?.resolve();
        }
        return;
      case 'init_error':
        this.initError = { message: m.message, stack: m.stack };
        this.ready?.reject(this.initErrorFor(this.initError));
        this.specializing?.reject(this.initErrorFor(this.initError));
        return;
      case 'specialized':
        this.specializing?.resolve();
        return;
      case 'log': {
        const p = m.id === null ? this.soleInFlight() : this.pending.get(m.id);
        if (p) p.logs.add(m.stream, m.line, m.time);
        else this.recent.add(m.line);
        return;
      }
      case 'result': {
        const p = this.pending.get(m.id);
        if (!p) return; // Timed out already.
        if (m.ok) {
          this.settle(p, { ok: true, result: m.value, logs: p.logs.finish(), durationMs: performance.now() - p.started });
        } else {
          this.settle(p, {
            ok: false,
            error: { code: 'function_error', message: m.error.message, ...(m.error.stack ? { stack: m.error.stack } : {}) },
            logs: p.logs.finish(),
            durationMs: performance.now() - p.started,
          });
        }
        return;
      }
      case 'http_head': {
        this.pending.get(m.id)?.http?.head(m.status, m.headers);
        return;
      }
      case 'http_chunk': {
        this.pending.get(m.id)?.http?.chunk(Buffer.from(m.data, 'base64'));
        return;
      }
      case 'http_end': {
        const p = this.pending.get(m.id);
        if (p) this.settle(p, { ok: true, result: null, logs: p.logs.finish(), durationMs: performance.now() - p.started });
        return;
      }
      default:
        // A newer agent's message type: ignore rather than break.
        return;
    }
  }

  /** The detail keeps the stack and whatever the module printed while loading. */
  private initErrorFor(e: { message: string; stack?: string }): ContainerStartError {
    const output = this.recent.text();
    const detail = [e.stack ?? e.message, output && `output while loading:\n${output}`].filter(Boolean).join('\n');
    return new ContainerStartError('init_error', `function failed to initialize: ${e.message}`, detail);
  }

  /** Raw container stdio: child processes of the function, node's fatal errors, tini, runc. */
  private pipeStdio(stream: RuncProcess['stdout'], name: 'stdout' | 'stderr'): void {
    const splitter = new LineSplitter({
      maxLineBytes: MAX_LOG_LINE_BYTES,
      onLine: (buf, truncated) => {
        const line = buf.toString('utf8') + (truncated ? ' [truncated]' : '');
        if (name === 'stderr' && HEAP_OOM.test(line)) this.heapOom = true;
        const p = this.soleInFlight();
        if (p) p.logs.add(name, line);
        if (!p || name === 'stderr') this.recent.add(line);
      },
    });
    stream.on('data', (c: Buffer) => splitter.push(c));
    stream.on('end', () => splitter.flush());
    stream.on('error', () => {});
  }

  private soleInFlight(): Pending | undefined {
    if (this.pending.size !== 1) return undefined;
    return this.pending.values().next().value;
  }

  private settle(p: Pending, outcome: InvokeOutcome): void {
    if (this.pending.get(p.id) !== p) return;
    clearTimeout(p.timer);
    this.pending.delete(p.id);
    p.resolve(outcome);
  }

  /** Past the deadline the function may be stuck in a busy loop: the only cure is a new container. */
  private async onTimeout(p: Pending, budgetMs: number): Promise<void> {
    if (this.pending.get(p.id) !== p) return;
    this.pending.delete(p.id);
    await this.destroy(`another invocation (${p.invocationId}) timed out`);
    p.resolve({
      ok: false,
      error: { code: 'timeout', message: `invocation timed out after ${budgetMs} ms` },
      logs: p.logs.finish(),
      durationMs: performance.now() - p.started,
    });
  }

  /** Runs once, when runc has exited: explain the exit, fail what was in flight, clean up. */
  private finalize(): Promise<ContainerExit> {
    this.finalizing ??= (async () => {
      const { code, signal } = this.runcExit ?? { code: null, signal: null };
      this.state = 'gone';
      // 'exit' can beat the last stderr bytes (node's "heap out of memory" banner): let them drain.
      await Promise.race([streamsEnded(this.deps.process), new Promise((r) => setTimeout(r, 200))]);
      // --keep left the cgroup in place so its OOM counter is still readable here.
      const oomKills = await readOomKills(this.deps.cgroupPath).catch(() => null);
      const oomKilled = (oomKills ?? 0) > 0 || this.heapOom;
      const how = signal ? `signal ${signal}` : `code ${code}`;

      for (const p of [...this.pending.values()]) {
        const outcome = oomKilled
          ? failure('out_of_memory', 'the function ran out of memory', p.started, p.logs)
          : failure('internal', this.destroyReason ?? `container exited (${how})`, p.started, p.logs);
        this.settle(p, outcome);
      }
      this.specializing?.reject(
        this.initError ? this.initErrorFor(this.initError) : new ContainerStartError('exited', `stem cell ${this.id} exited while specializing (${oomKilled ? 'out of memory' : how})`, this.recent.text()),
      );
      if (this.ready) {
        // runc prints its error to stderr and to its log; keep the log's lines only if new.
        const output = this.recent.text();
        const fromLog = (await runcErrors(this.deps.runcLogFile)).filter((l) => !output.includes(l.replace(/^runc: /, '').trim()));
        const detail = [output, ...fromLog].filter(Boolean).join('\n');
        this.ready.reject(
          this.initError
            ? this.initErrorFor(this.initError)
            : new ContainerStartError(
                'exited',
                `container ${this.id} exited before it was ready (${oomKilled ? 'out of memory' : how})${detail ? `: ${lastLines(detail, 8)}` : ''}`,
                detail,
              ),
        );
      }

      this.channel.close();
      const problems = await removeResidue({
        runc: this.deps.runc,
        id: this.id,
        cgroupPath: this.deps.cgroupPath,
        bundleDir: this.deps.bundleDir,
        rootfs: this.deps.rootfsPath,
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

function failure(code: InvokeErrorCode, message: string, started: number, logs?: LogBuffer): InvokeOutcome {
  return { ok: false, error: { code, message }, logs: logs ? logs.finish() : [], durationMs: performance.now() - started };
}

function streamsEnded(proc: RuncProcess): Promise<void> {
  const ended = (s: NodeJS.ReadableStream & { readableEnded?: boolean; destroyed?: boolean }) =>
    s.readableEnded || s.destroyed ? Promise.resolve() : new Promise<void>((r) => s.once('close', r).once('end', r));
  return Promise.all([ended(proc.stdout), ended(proc.stderr)]).then(() => undefined);
}

/** runc's own error lines from its --log file (why it could not start the container). */
async function runcErrors(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    try {
      const entry = JSON.parse(line) as { level?: string; msg?: string };
      if ((entry.level === 'error' || entry.level === 'fatal') && entry.msg) out.push(`runc: ${entry.msg}`);
    } catch {
      // Not JSON: skip.
    }
  }
  return out;
}

function lastLines(text: string, n: number): string {
  return text.split('\n').slice(-n).join('\n');
}
