/**
 * Owner of the spawner process (`spawner-process.cjs`): Hearth asks it to start a process and
 * gets that process's pipes back over the IPC channel (`spawn`), or to run a short command and
 * gets its exit and output (`exec`), so the fork of a large Node process never blocks Hearth's
 * event loop (4–6 ms per fork, measured). Started by start(), stopped by close(); if it dies in
 * between, the processes it reported are reported exited (their owners then clean up), the
 * commands it was running fail, and the next call starts a new one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { settlesWithin } from '../../time-bound/index.ts';
import { cleanEnv, runCommand, type CommandResult } from '../command.ts';

const SCRIPT = fileURLToPath(new URL('./spawner-process.cjs', import.meta.url));
/** runCommand's default. */
const COMMAND_TIMEOUT_MS = 10_000;
/** How long close() waits for the spawner to exit after the disconnect before killing it. */
const EXIT_GRACE_MS = 2000;

type FromSpawner =
  | { type: 'pipe'; id: number; fd: 1 | 2 | 3 }
  | { type: 'spawned'; id: number; pid: number }
  | { type: 'error'; id: number; message: string }
  | { type: 'exit'; id: number; code: number | null; signal: NodeJS.Signals | null }
  | ({ type: 'done'; id: number } & CommandResult);

type ToSpawner =
  | { type: 'spawn'; id: number; file: string; args: string[] }
  | { type: 'exec'; id: number; file: string; args: string[]; timeoutMs: number }
  | { type: 'kill'; id: number; signal: NodeJS.Signals };

/**
 * A process the spawner started: its stdout, stderr and fd 3 (a socketpair, both ways), an
 * 'exit' event `(code, signal)` once, and kill(). Its own process group, like runc's.
 */
export class SpawnedProcess extends EventEmitter<{ exit: [code: number | null, signal: NodeJS.Signals | null] }> {
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  private exited = false;

  constructor(
    readonly pid: number,
    readonly stdout: Socket,
    readonly stderr: Socket,
    /** fd 3 in the process. */
    readonly extraFd: Socket,
    private readonly sendKill: (signal: NodeJS.Signals) => void,
  ) {
    super();
  }

  get hasExited(): boolean {
    return this.exited;
  }

  /** Asks the spawner to signal it; a no-op once it has exited. */
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (!this.exited) this.sendKill(signal);
  }

  /** @internal the spawner's report. */
  reportExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.exited) return;
    this.exited = true;
    this.exitCode = code;
    this.signalCode = signal;
    this.emit('exit', code, signal);
  }
}

interface Starting {
  file: string;
  pipes: Partial<Record<1 | 2 | 3, Socket>>;
  resolve: (p: SpawnedProcess) => void;
  reject: (e: Error) => void;
}

interface Running {
  file: string;
  resolve: (r: CommandResult) => void;
  reject: (e: Error) => void;
}

export class ProcessSpawner {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly starting = new Map<number, Starting>();
  private readonly running = new Map<number, SpawnedProcess>();
  private readonly commands = new Map<number, Running>();
  private closed = false;

  /** `label` goes on the spawner's command line, so `ps` shows whose it is (the runtime's instance). */
  constructor(
    private readonly label: string,
    private readonly warn: (message: string) => void,
  ) {}

  /** The spawner process's pid while it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the spawner process now, so the first spawn does not wait for a node to boot. */
  start(): void {
    this.closed = false;
    this.ensureChild();
  }

  /** Starts `file args` (stdio: nothing, pipe, pipe, and a pipe at fd 3). Rejects if it could not start. */
  spawn(file: string, args: string[]): Promise<SpawnedProcess> {
    if (this.closed) return Promise.reject(new Error('the process spawner is closed'));
    const child = this.ensureChild();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.starting.set(id, { file, pipes: {}, resolve, reject });
      this.post(child, { type: 'spawn', id, file, args });
    });
  }

  /**
   * Runs a short command to completion, as runCommand does (SIGKILL after timeoutMs, never
   * rejected on exit code), but forked by the spawner. After close() it runs here instead: a
   * late clean-up must still work.
   */
  readonly exec = (file: string, args: string[], timeoutMs = COMMAND_TIMEOUT_MS): Promise<CommandResult> => {
    if (this.closed) return runCommand(file, args, timeoutMs);
    const child = this.ensureChild();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.commands.set(id, { file, resolve, reject });
      this.post(child, { type: 'exec', id, file, args, timeoutMs });
    });
  };

  /** Stops the spawner process (its running children keep running; their owners stop them). */
  async close(): Promise<void> {
    this.closed = true;
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    if (child.connected) child.disconnect();
    if (!(await settlesWithin(exited, EXIT_GRACE_MS))) {
      child.kill('SIGKILL');
      await exited;
    }
  }

  private ensureChild(): ChildProcess {
    if (this.child) return this.child;
    const env = cleanEnv();
    // Its own node, without the options Hearth was started with (a loader, a heap size).
    delete env.NODE_OPTIONS;
    const child = spawn(process.execPath, [SCRIPT, this.label], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env, detached: true });
    child.on('message', (m: FromSpawner, handle: unknown) => this.onMessage(m, handle as Socket | undefined));
    child.once('exit', (code, signal) => this.onChildExit(child, code, signal));
    // A failed spawn of node itself is followed by 'exit'.
    child.on('error', (e) => this.warn(`process spawner: ${e.message}`));
    this.child = child;
    return child;
  }

  private post(child: ChildProcess, m: ToSpawner): void {
    if (child.connected) child.send(m);
  }

  private onMessage(m: FromSpawner, handle: Socket | undefined): void {
    switch (m.type) {
      case 'pipe': {
        const s = this.starting.get(m.id);
        if (s && handle) s.pipes[m.fd] = handle;
        else handle?.destroy();
        return;
      }
      case 'spawned': {
        const s = this.starting.get(m.id);
        if (!s) return;
        this.starting.delete(m.id);
        const { 1: stdout, 2: stderr, 3: extraFd } = s.pipes;
        if (!stdout || !stderr || !extraFd) {
          s.reject(new Error(`spawning ${s.file}: its pipes did not arrive`));
          return;
        }
        const child = this.child;
        const proc = new SpawnedProcess(m.pid, stdout, stderr, extraFd, (signal) => child && this.post(child, { type: 'kill', id: m.id, signal }));
        this.running.set(m.id, proc);
        s.resolve(proc);
        return;
      }
      case 'error': {
        const s = this.starting.get(m.id) ?? this.commands.get(m.id);
        this.starting.delete(m.id);
        this.commands.delete(m.id);
        s?.reject(new Error(`spawning ${s.file}: ${m.message}`));
        return;
      }
      case 'done': {
        const c = this.commands.get(m.id);
        this.commands.delete(m.id);
        c?.resolve({ code: m.code, signal: m.signal, stdout: m.stdout, stderr: m.stderr });
        return;
      }
      case 'exit': {
        const proc = this.running.get(m.id);
        this.running.delete(m.id);
        proc?.reportExit(m.code, m.signal);
        return;
      }
    }
  }

  private onChildExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = undefined;
    const lost = this.starting.size + this.running.size + this.commands.size;
    if (!this.closed || lost > 0) {
      this.warn(`process spawner exited (${signal ? `signal ${signal}` : `code ${code}`}); ${lost} of its processes are reported gone`);
    }
    for (const s of [...this.starting.values(), ...this.commands.values()]) s.reject(new Error(`spawning ${s.file}: the process spawner exited`));
    this.starting.clear();
    this.commands.clear();
    // They may still run, reparented; their owners' clean-up (runc delete -f) stops them.
    for (const [, proc] of this.running) proc.reportExit(null, null);
    this.running.clear();
  }
}
