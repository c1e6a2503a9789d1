/** Shared pieces of the adversarial suite: a bystander that keeps invoking, a host Redis, probes. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type { TestHearth } from '../helpers/hearth.ts';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One POST on a connection of its own. The test process also hosts the Hearth under test, so a
 * keep-alive socket it reuses can be one the server is closing for idleness at that very moment
 * (ECONNRESET, an ordinary keep-alive race, not harm done by an attack): the bystander sidesteps
 * it with a fresh connection per call.
 */
function invokeOnFreshConnection(baseUrl: string, fn: string, event: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify(event);
    const req = http.request(`${baseUrl}/v1/functions/${fn}/invoke`, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * A well-behaved function invoked in a loop while the attacks run: every answer must be right.
 * The loop keeps one request in flight and records anything that is not the expected reply.
 */
export class Bystander {
  ok = 0;
  readonly failures: string[] = [];
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly h: TestHearth,
    readonly name = 'bystander',
  ) {}

  static readonly SOURCE = 'export default (e) => ({ double: e.n * 2, pid: process.pid })';

  start(): void {
    this.loop = (async () => {
      let n = 0;
      while (!this.stopped) {
        n++;
        try {
          const r = await invokeOnFreshConnection(this.h.url, this.name, { n });
          if (r.status !== 200 || (JSON.parse(r.text) as { double?: number })?.double !== n * 2) this.failures.push(`#${n}: ${r.status} ${r.text.slice(0, 200)}`);
          else this.ok++;
        } catch (e) {
          this.failures.push(`#${n}: ${(e as Error & { code?: string }).code ?? (e as Error).message}`);
        }
        await sleep(50);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

/** A TCP port nothing listens on right now. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

/** Can the test process (on the host) open a TCP connection? The control for every "blocked" claim. */
export function canConnect(host: string, port: number, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** A redis-server on 127.0.0.1 standing in for "the host's Redis" (Hearth uses it via REDIS_URL). */
export async function startHostRedis(): Promise<{ port: number; url: string; close(): Promise<void> }> {
  const port = await freePort();
  const proc: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'], {
    stdio: 'ignore',
  });
  for (let i = 0; i < 100 && !(await canConnect('127.0.0.1', port, 200)); i++) await sleep(50);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    close: async () => {
      if (proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

/** Host pids whose command line contains `token` (how we look for processes that escaped clean-up). */
export function hostPidsWith(token: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(token)) pids.push(Number(name));
    } catch {
      // Exited meanwhile.
    }
  }
  return pids;
}

/** The container ids the pool holds for a function. */
export async function containersOf(h: TestHearth, fn: string): Promise<string[]> {
  const pool = await h.api('GET', '/v1/pool');
  return (pool.body.containers as Array<{ id: string; function: string }>).filter((c) => c.function === fn).map((c) => c.id);
}

export async function expectHealthy(h: TestHearth): Promise<void> {
  const r = await h.api('GET', '/healthz');
  if (r.status !== 200) throw new Error(`Hearth unhealthy: ${r.status} ${r.text}`);
}

/**
 * Function source that writes native probes to /tmp and runs each one: `{name: exit code}` where
 * 0 is success and anything else the errno the kernel (or seccomp) answered.
 */
export function probeFunctionSource(probes: Record<string, Buffer>): string {
  const encoded = Object.fromEntries(Object.entries(probes).map(([k, v]) => [k, v.toString('base64')]));
  return `
import { writeFileSync, chmodSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
const probes = ${JSON.stringify(encoded)};
export default () => {
  const out = {};
  for (const [name, b64] of Object.entries(probes)) {
    const path = '/tmp/probe-' + name;
    writeFileSync(path, Buffer.from(b64, 'base64'));
    chmodSync(path, 0o755);
    const r = spawnSync(path);
    out[name] = r.error ? r.error.code : r.signal ? r.signal : r.status;
  }
  return out;
};`;
}
