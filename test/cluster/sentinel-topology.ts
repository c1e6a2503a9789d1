import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';

export const MASTER_NAME = 'hearth';
const SETPRIV = '/usr/bin/setpriv';
const SENTINEL_BIN = existsSync('/usr/bin/redis-sentinel') ? '/usr/bin/redis-sentinel' : undefined;

/** Debian's redis-sentinel package is installed (scripts/setup.sh test installs it). */
export const canRunSentinel = SENTINEL_BIN !== undefined && existsSync('/usr/bin/redis-server');

/** A loopback port nobody listens on right now. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** One process of the topology; it dies with the test process even on a crash (parent-death signal). */
class Proc {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  output = '';

  constructor(readonly label: string, private readonly argv: string[]) {}

  start(): void {
    const [cmd, args] = existsSync(SETPRIV) ? [SETPRIV, ['--pdeathsig', 'KILL', '--', ...this.argv]] : [this.argv[0]!, this.argv.slice(1)];
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const keep = (d: Buffer) => { this.output = (this.output + d.toString()).slice(-8000); };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child!.kill(signal);
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.running) this.child!.kill(signal);
    await this.exited;
  }
}

async function ping(port: number): Promise<boolean> {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 500 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`sentinel topology: ${what} not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * A primary and a replica (Debian's redis-server) watched by three sentinels (redis-sentinel),
 * all on loopback ports picked here, all in a temp dir removed by close(). Sentinels declare the
 * primary down after 1 s of silence, so a failover takes a few seconds.
 */
export class SentinelTopology {
  private readonly servers = new Map<number, Proc>();
  private readonly sentinels: Proc[] = [];

  private constructor(readonly dir: string, readonly serverPorts: number[], readonly sentinelPorts: number[]) {}

  static async start(): Promise<SentinelTopology> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hearth-sentinel-'));
    const ports: number[] = [];
    while (ports.length < 5) {
      const port = await freePort();
      if (!ports.includes(port)) ports.push(port);
    }
    const topology = new SentinelTopology(dir, ports.slice(0, 2), ports.slice(2));
    try {
      await topology.boot();
    } catch (err) {
      await topology.close();
      throw err;
    }
    return topology;
  }

  /** `redis-sentinel://…` naming the three sentinels. */
  get url(): string {
    return `redis-sentinel://${this.sentinelPorts.map((p) => `127.0.0.1:${p}`).join(',')}/${MASTER_NAME}`;
  }

  private async boot(): Promise<void> {
    const [primary, replica] = this.serverPorts as [number, number];
    await this.startServer(primary);
    await this.startServer(replica, primary);
    await until('primary and replica answering', async () => (await ping(primary)) && (await ping(replica)), 10_000);
    await until('replica in sync', async () => /master_link_status:up/.test(await this.info(replica, 'replication')), 10_000);
    for (const port of this.sentinelPorts) {
      const conf = path.join(this.dir, `sentinel-${port}.conf`);
      // Sentinel rewrites its config file (it records what it learns), so each gets a writable one.
      await writeFile(conf, [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${this.dir}`,
        `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${primary} 2`,
        `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
        `sentinel failover-timeout ${MASTER_NAME} 5000`,
        `sentinel parallel-syncs ${MASTER_NAME} 1`,
        '',
      ].join('\n'));
      const proc = new Proc(`sentinel:${port}`, [SENTINEL_BIN!, conf]);
      proc.start();
      this.sentinels.push(proc);
    }
    // A failover needs a majority of sentinels that know each other (they meet through the primary)
    // and know the replica: wait for that, or the kill below would find no one to promote it.
    for (const port of this.sentinelPorts) {
      await until(`sentinel ${port} knowing the others and the replica`, async () => {
        const client = this.client(port);
        try {
          const others = (await client.call('SENTINEL', 'SENTINELS', MASTER_NAME)) as unknown[];
          const replicas = (await client.call('SENTINEL', 'REPLICAS', MASTER_NAME)) as unknown[];
          return others.length >= 2 && replicas.length >= 1;
        } finally {
          client.disconnect();
        }
      }, 20_000);
    }
  }

  private async startServer(port: number, replicaOf?: number): Promise<void> {
    const dataDir = path.join(this.dir, `redis-${port}`);
    const args = [
      '/usr/bin/redis-server',
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dataDir,
      '--appendonly', 'yes', '--appendfsync', 'always', '--save', '',
      '--maxmemory-policy', 'noeviction', '--daemonize', 'no', '--loglevel', 'warning',
      ...(replicaOf ? ['--replicaof', '127.0.0.1', String(replicaOf)] : []),
    ];
    await mkdir(dataDir, { recursive: true });
    const proc = new Proc(`redis:${port}`, args);
    proc.start();
    this.servers.set(port, proc);
  }

  private client(port: number): Redis {
    const client = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, retryStrategy: () => null, connectTimeout: 1000 });
    client.on('error', () => undefined);
    return client;
  }

  private async info(port: number, section: string): Promise<string> {
    const client = this.client(port);
    try {
      return await client.info(section);
    } finally {
      client.disconnect();
    }
  }

  /** The primary's port, as the first sentinel that answers says. */
  async primaryPort(): Promise<number> {
    for (const port of this.sentinelPorts) {
      const client = this.client(port);
      try {
        const addr = (await client.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME)) as [string, string];
        return Number(addr[1]);
      } catch {
        // try the next sentinel
      } finally {
        client.disconnect();
      }
    }
    throw new Error('no sentinel answers');
  }

  /** SIGKILL of the current primary: no clean-up, no last fsync. Returns its port. */
  async killPrimary(): Promise<number> {
    const port = await this.primaryPort();
    await this.servers.get(port)!.kill('SIGKILL');
    return port;
  }

  /**
   * Starts a killed server again on its port and data, as a replica of the current primary (as an
   * operator would: Sentinel alone would convert it too, but only after its 10 s INFO period).
   */
  async restartAsReplica(port: number): Promise<void> {
    const old = this.servers.get(port)!;
    if (old.running) throw new Error(`redis ${port} is still running`);
    await this.startServer(port, await this.primaryPort());
    await until(`redis ${port} answering`, () => ping(port), 10_000);
  }

  /** A plain client of the current primary (the caller disconnects it). */
  async primaryClient(): Promise<Redis> {
    return this.client(await this.primaryPort());
  }

  /** A switch without a crash (`SENTINEL FAILOVER`): the primary is demoted to a replica of the promoted one. */
  async switchover(): Promise<void> {
    const client = this.client(this.sentinelPorts[0]!);
    try {
      await client.call('SENTINEL', 'FAILOVER', MASTER_NAME);
    } finally {
      client.disconnect();
    }
  }

  /**
   * The client connections a server has from applications: not the sentinels' (named
   * `sentinel-…`), not replication links, not the one asking.
   */
  async applicationClients(port: number): Promise<string[]> {
    const client = this.client(port);
    try {
      const self = String(await client.client('ID'));
      const list = (await client.client('LIST')) as string;
      return list.trim().split('\n').filter((line) => {
        const id = /\bid=(\d+)/.exec(line)?.[1];
        const name = /\bname=(\S*)/.exec(line)?.[1] ?? '';
        const flags = /\bflags=(\S*)/.exec(line)?.[1] ?? '';
        return id !== self && !name.startsWith('sentinel-') && !/[MS]/.test(flags);
      });
    } finally {
      client.disconnect();
    }
  }

  /** SIGSTOP / SIGCONT of a server: it keeps its sockets but answers nothing (a stalled replica). */
  freeze(port: number, frozen: boolean): void {
    this.servers.get(port)!.signal(frozen ? 'SIGSTOP' : 'SIGCONT');
  }

  /** The replica's port (the server that is not the primary). */
  async replicaPort(): Promise<number> {
    const primary = await this.primaryPort();
    return this.serverPorts.find((p) => p !== primary)!;
  }

  /** Replicas the current primary has connected, in sync. */
  async connectedReplicas(): Promise<number> {
    const info = await this.info(await this.primaryPort(), 'replication');
    return Number(/^connected_slaves:(\d+)/m.exec(info)?.[1] ?? 0);
  }

  /** Everything it started is stopped, and its temp dir removed. */
  async close(): Promise<void> {
    await Promise.all([...this.sentinels, ...this.servers.values()].map((p) => p.kill('SIGKILL')));
    await rm(this.dir, { recursive: true, force: true });
  }

  /** The last lines every process printed (for a failure message). */
  logs(): string {
    return [...this.servers.values(), ...this.sentinels].map((p) => `--- ${p.label}\n${p.output.slice(-1500)}`).join('\n');
  }
}
