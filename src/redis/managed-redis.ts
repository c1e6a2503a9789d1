import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';

/**
 * A `redis-server` Hearth owns: unix socket in the data dir, AOF on, `noeviction`
 * (BullMQ loses jobs if Redis evicts keys). Started by `start()`, stopped by `close()`.
 */
export class ManagedRedis {
  readonly socketPath: string;
  private readonly dir: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;

  constructor(dataDir: string, private readonly binary = 'redis-server') {
    this.dir = path.join(dataDir, 'redis');
    // sun_path is limited to 107 bytes; a deep data dir would not fit.
    this.socketPath = path.join(this.dir, 'redis.sock');
  }

  get url(): string {
    return `redis+socket://${this.socketPath}`;
  }

  async start(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    if (Buffer.byteLength(this.socketPath) > 100) throw new Error(`data dir too deep for a unix socket: ${this.socketPath}`);
    if (existsSync(this.socketPath)) await rm(this.socketPath);
    const args = [
      '--port', '0',
      '--unixsocket', this.socketPath,
      '--unixsocketperm', '700',
      '--dir', this.dir,
      '--appendonly', 'yes',
      '--appendfsync', 'everysec',
      '--maxmemory-policy', 'noeviction',
      '--save', '',
      '--daemonize', 'no',
      '--loglevel', 'warning',
    ];
    const child = spawn(this.binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const failed = new Promise<never>((_, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${stderr.trim()}`)));
    });
    await Promise.race([this.waitForPing(), failed]);
  }

  private async waitForPing(): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (existsSync(this.socketPath)) {
        const client = new Redis({ path: this.socketPath, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
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

  async close(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM'); // redis flushes the AOF on SIGTERM
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
    this.child = undefined;
  }
}
