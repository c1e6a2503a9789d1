/**
 * The runc driver. It knows nothing about functions: ids, bundles, signals and JSON state.
 * Every call is a runc forked by the process spawner (off Hearth's event loop) with a timeout;
 * `run` is the one long-lived process.
 */
import { CommandError, runChecked } from './command.ts';
import type { ProcessSpawner, SpawnedProcess } from './spawner/index.ts';

export interface RuncOptions {
  /** runc binary. */
  binary: string;
  /** runc --root: container state dirs. Keep it on tmpfs so a reboot clears it. */
  root: string;
  /** Timeout for each short command (kill, delete, list, state). */
  timeoutMs?: number;
  /** Forks every runc. */
  spawner: ProcessSpawner;
}

export type RuncStatus = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

export interface RuncState {
  id: string;
  pid: number;
  status: RuncStatus;
  bundle: string;
  rootfs?: string;
  created?: string;
}

/** A foreground `runc run`: container stdout/stderr, and fd 3 (the agent channel). */
export type RuncProcess = SpawnedProcess;

export interface RunOptions {
  id: string;
  bundle: string;
  /** Where runc writes its own log (JSON), separate from the container's stderr. */
  logFile?: string;
  /** Keep the container (and its cgroup) after it exits, so the caller can read OOM counters first. */
  keep?: boolean;
}

export class Runc {
  private readonly timeoutMs: number;

  constructor(private readonly opts: RuncOptions) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  get root(): string {
    return this.opts.root;
  }

  /** `runc --version` → "1.1.5+ds1". Throws if runc is missing or broken. */
  async version(): Promise<string> {
    const { stdout } = await runChecked(this.opts.binary, ['--version'], this.timeoutMs, this.opts.spawner.exec);
    const m = /runc version (\S+)/.exec(stdout);
    if (!m) throw new Error(`unexpected runc --version output: ${stdout.trim()}`);
    return m[1];
  }

  /**
   * Foreground `runc run`: runc stays the container's parent and subreaper, copies its stdio to
   * our pipes and exits with the container's exit code. The socketpair we put at fd 3 is passed
   * through untouched (--preserve-fds 1). Its own process group so a terminal ^C reaches Hearth,
   * which then shuts containers down in order, rather than every runc at once. Rejects if runc
   * could not be started.
   */
  run(o: RunOptions): Promise<RuncProcess> {
    const args = ['--root', this.opts.root];
    if (o.logFile) args.push('--log', o.logFile, '--log-format', 'json');
    args.push('run', '--bundle', o.bundle, '--preserve-fds', '1');
    if (o.keep) args.push('--keep');
    args.push(o.id);
    return this.opts.spawner.spawn(this.opts.binary, args);
  }

  kill(id: string, signal = 'KILL'): Promise<void> {
    return this.checked(['kill', id, signal]);
  }

  /** `delete -f` SIGKILLs a running container and removes its state and cgroup. */
  delete(id: string, force = true): Promise<void> {
    return this.checked(force ? ['delete', '-f', id] : ['delete', id]);
  }

  async list(): Promise<RuncState[]> {
    const { stdout } = await this.checkedOutput(['list', '-f', 'json']);
    // runc prints `null` for an empty list.
    const parsed = JSON.parse(stdout.trim() || 'null') as RuncState[] | null;
    return parsed ?? [];
  }

  /** null if runc does not know the container. */
  async state(id: string): Promise<RuncState | null> {
    const result = await this.opts.spawner.exec(this.opts.binary, ['--root', this.opts.root, 'state', id], this.timeoutMs);
    if (result.code !== 0) {
      if (isNotExist(result.stderr)) return null;
      throw new CommandError(`runc state ${id}`, result);
    }
    return JSON.parse(result.stdout) as RuncState;
  }

  /** Changes a running container's memory limit (swap stays disabled: memory+swap = limit). */
  async updateMemory(id: string, bytes: number): Promise<void> {
    await this.checked(['update', '--memory', String(bytes), '--memory-swap', String(bytes), id]);
  }

  private async checked(args: string[]): Promise<void> {
    await this.checkedOutput(args);
  }

  private checkedOutput(args: string[]) {
    return runChecked(this.opts.binary, ['--root', this.opts.root, ...args], this.timeoutMs, this.opts.spawner.exec);
  }
}

/** runc's wording when the container id is unknown (state dir gone). */
export function isNotExist(stderr: string): boolean {
  return /does not exist|not exist|no such file/i.test(stderr);
}
