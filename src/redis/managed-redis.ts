import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';
import { rootLogger } from '../log/index.ts';
import { redisServersFor, stopProcess } from './process-table.ts';
import { claimDataDir, releaseDataDir } from './owner-file.ts';
import { managedRedisArgs, type ManagedRedisConfig } from './managed-args.ts';
import { restartDelayMs } from './restart-backoff.ts';

export type ManagedRedisState = 'stopped' | 'starting' | 'running' | 'restarting' | 'stopping';

export interface ManagedRedisOptions extends Partial<ManagedRedisConfig> {
  binary?: string;
  /** Wrap the server in `setpriv --pdeathsig KILL` so it dies with this process (default: when setpriv exists). */
  dieWithParent?: boolean;
}

const SETPRIV = '/usr/bin/setpriv';
/** A server that stayed up this long is healthy again: the next crash restarts it quickly. */
const STABLE_AFTER_MS = 30_000;

/**
 * The redis-server a Hearth owns: unix socket in the data dir, AOF on (fsync always by default),
 * `maxmemory` with `noeviction` (BullMQ loses jobs if Redis evicts keys).
 *
 * One owner, one server: it runs in its own process group, so a Ctrl-C or a systemd stop sent to
 * the whole group reaches Hearth only, which stops Redis last; it dies with Hearth even on
 * SIGKILL (parent-death signal); a leftover server on the same socket (a crashed Hearth's) is
 * stopped before a new one starts, so two never write the same AOF; and if it exits on its own it
 * is started again with backoff.
 */
export class ManagedRedis {
  readonly socketPath: string;
  private readonly dir: string;
  private readonly config: ManagedRedisConfig;
  private readonly binary: string;
  private readonly dieWithParent: boolean;
  private readonly log = rootLogger().child({ component: 'managed-redis' });
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private crashes = 0;
  private startedAt = 0;
  private listeners: ((state: ManagedRedisState) => void)[] = [];
  state: ManagedRedisState = 'stopped';

  constructor(dataDir: string, opts: ManagedRedisOptions | string = {}) {
    const o = typeof opts === 'string' ? { binary: opts } : opts;
    this.dir = path.join(dataDir, 'redis');
    // sun_path is limited to 107 bytes; a deep data dir would not fit.
    this.socketPath = path.join(this.dir, 'redis.sock');
    this.binary = o.binary ?? 'redis-server';
    this.dieWithParent = o.dieWithParent ?? existsSync(SETPRIV);
    this.config = { fsync: o.fsync ?? 'always', maxmemory: o.maxmemory ?? '256mb' };
  }

  get url(): string {
    return `redis+socket://${this.socketPath}`;
  }

  /** The server's pid while it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  onStateChange(listener: (state: ManagedRedisState) => void): void {
    this.listeners.push(listener);
  }

  private setState(state: ManagedRedisState): void {
    this.state = state;
    for (const l of this.listeners) l(state);
  }

  async start(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    if (Buffer.byteLength(this.socketPath) > 100) throw new Error(`data dir too deep for a unix socket: ${this.socketPath}`);
    this.setState('starting');
    await claimDataDir(this.dir);
    for (const pid of await redisServersFor(this.socketPath)) {
      // A crashed Hearth's server (or one whose parent-death signal could not fire): stop it, so
      // exactly one redis-server ever writes this AOF. SIGTERM lets it flush what it has.
      this.log.warn({ pid, socket: this.socketPath }, 'stopping a leftover redis-server on this data dir');
      await stopProcess(pid);
    }
    try {
      await this.launch();
    } catch (err) {
      await releaseDataDir(this.dir);
      this.setState('stopped');
      throw err;
    }
    this.setState('running');
  }

  private async launch(): Promise<void> {
    if (existsSync(this.socketPath)) await rm(this.socketPath, { force: true });
    const args = managedRedisArgs(this.dir, this.socketPath, this.config);
    const [command, argv] = this.dieWithParent
      ? [SETPRIV, ['--pdeathsig', 'KILL', '--', this.binary, ...args]]
      : [this.binary, args];
    // detached: its own process group, out of reach of signals sent to Hearth's group.
    const child = spawn(command, argv, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    this.child = child;
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    let ready = false;
    const failed = new Promise<never>((_, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => reject(new Error(`redis-server exited (${code ?? signal}): ${stderr.trim()}`)));
    });
    failed.catch(() => undefined);
    child.once('exit', (code, signal) => {
      if (ready && this.child === child) this.onUnexpectedExit(code, signal, stderr);
    });
    try {
      await Promise.race([this.waitForPing(), failed]);
    } catch (err) {
      // Never leave a half-started server behind: the next attempt would run beside it.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await this.exited;
      throw err;
    }
    ready = true;
    this.startedAt = Date.now();
  }

  private onUnexpectedExit(code: number | null, signal: NodeJS.Signals | null, stderr: string): void {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    this.child = undefined;
    if (Date.now() - this.startedAt > STABLE_AFTER_MS) this.crashes = 0;
    const delay = restartDelayMs(this.crashes++);
    this.log.error({ code, signal, restartInMs: delay, stderr: stderr.trim().slice(-500) || undefined }, 'managed redis-server exited; restarting it');
    this.setState('restarting');
    this.scheduleRestart(delay);
  }

  private scheduleRestart(delay: number): void {
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.state !== 'restarting') return;
      this.launch().then(
        () => {
          if (this.state !== 'restarting') return;
          this.log.info({ pid: this.child?.pid }, 'managed redis-server restarted');
          this.setState('running');
        },
        (err: Error) => {
          if (this.state !== 'restarting') return;
          const next = restartDelayMs(this.crashes++);
          this.log.error({ err: { message: err.message }, restartInMs: next }, 'managed redis-server did not restart; trying again');
          this.scheduleRestart(next);
        },
      );
    }, delay);
  }

  private async waitForPing(): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (existsSync(this.socketPath)) {
        const client = new Redis({ path: this.socketPath, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        client.on('error', () => undefined); // expected while the server is still loading
        try {
          await client.connect();
          if ((await client.ping()) === 'PONG') return;
        } catch {
          // not accepting yet (still loading the AOF)
        } finally {
          client.disconnect();
        }
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('redis-server did not become ready within 10s');
  }

  /** Stops the server (SIGTERM: Redis flushes its AOF; SIGKILL after 5 s) and gives the data dir up. */
  async close(): Promise<void> {
    if (this.state === 'stopped') return;
    this.setState('stopping');
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await this.exited;
      clearTimeout(timer);
    }
    this.child = undefined;
    await releaseDataDir(this.dir);
    this.setState('stopped');
  }
}
