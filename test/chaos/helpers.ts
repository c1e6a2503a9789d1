import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { redisServersFor } from '../../src/redis/index.ts';
import { prepareDataDir, startChildHearth } from '../helpers/child-hearth.ts';

export { prepareDataDir };

/** A Hearth server process (`src/main.ts`, as `npm start` runs it) the test can signal and kill. */
export interface ServerProcess {
  url: string;
  child: ChildProcess;
  dataDir: string;
  /** Everything it printed, for the JSON-lines check and for failure messages. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `src/main.ts` on a free port with `dataDir`. `ownGroup`: the server leads a process
 * group of its own, standing in for the terminal's or a systemd unit's group a stop signal reaches.
 */
export async function startServer(dataDir: string, opts: { env?: Record<string, string>; ownGroup?: boolean } = {}): Promise<ServerProcess> {
  const hearth = await startChildHearth({ HEARTH_DATA_DIR: dataDir, ...opts.env }, { ownGroup: opts.ownGroup ?? false });
  return { url: hearth.url, child: hearth.child, dataDir, output: hearth.output, exited: hearth.exited };
}

/**
 * Stops what a test started, whatever state it is in: SIGTERM first, so the server removes its own
 * containers and mounts (a SIGKILL here would leave them on the host); SIGKILL only if it hangs.
 */
export async function killServer(server: ServerProcess | undefined): Promise<void> {
  if (!server) return;
  if (server.child.exitCode === null && server.child.signalCode === null) {
    server.child.kill('SIGTERM');
    const stopped = await Promise.race([server.exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 20_000).unref())]);
    if (!stopped) server.child.kill('SIGKILL');
  }
  await server.exited;
}

export function socketPathOf(dataDir: string): string {
  return path.join(dataDir, 'redis', 'redis.sock');
}

/** The instance id Hearth derives from its data dir (names its runc root and cgroups). */
export function instanceOf(dataDir: string): string {
  return createHash('sha256').update(dataDir).digest('hex').slice(0, 12);
}

export interface Timed<T = any> {
  status: number;
  body: T;
  headers: Headers;
  ms: number;
}

/** One request, timed; aborted after `timeoutMs` (status 0) so a hang is measured, not waited out. */
export async function call<T = any>(url: string, method = 'GET', body?: unknown, timeoutMs = 10_000): Promise<Timed<T>> {
  const started = performance.now();
  try {
    const res = await fetch(url, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let parsed: unknown;
    try { parsed = text ? JSON.parse(text) : undefined; } catch { parsed = text; }
    return { status: res.status, body: parsed as T, headers: res.headers, ms: performance.now() - started };
  } catch {
    return { status: 0, body: undefined as T, headers: new Headers(), ms: performance.now() - started };
  }
}

export async function waitUntil(check: () => Promise<boolean> | boolean, timeoutMs: number, intervalMs = 50): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * What a stopped Hearth left on the host, found as an operator would: redis-servers on its
 * socket, runc containers and mounts under its runc root or data dir, cgroups of its instance.
 */
export async function hostLeftovers(dataDir: string): Promise<string[]> {
  const instance = instanceOf(dataDir);
  const left: string[] = [];
  for (const pid of await redisServersFor(socketPathOf(dataDir))) left.push(`redis-server pid ${pid}`);
  const runcRoot = path.join('/run/hearth', instance);
  for (const name of await readdir(runcRoot).catch(() => [] as string[])) {
    if (existsSync(path.join(runcRoot, name, 'state.json'))) left.push(`runc container ${name}`);
  }
  for (const line of (await readFile('/proc/self/mountinfo', 'utf8')).split('\n')) {
    const mountPoint = line.split(' ')[4] ?? '';
    if (mountPoint.startsWith(runcRoot) || mountPoint.startsWith(dataDir)) left.push(`mount ${mountPoint}`);
  }
  for (const controller of ['memory', 'pids', 'cpu', 'freezer', 'devices']) {
    const dir = path.join('/sys/fs/cgroup', controller, 'hearth', instance);
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) if (e.isDirectory()) left.push(`cgroup ${dir}/${e.name}`);
  }
  return left;
}

/** Lines of output that are not JSON (plain-text stack traces, "[ioredis] Unhandled error event"). */
export function nonJsonLines(output: string): string[] {
  return output.split('\n').filter((line) => {
    if (line.trim() === '') return false;
    try {
      JSON.parse(line);
      return false;
    } catch {
      return true;
    }
  });
}

export async function removeDataDir(dataDir: string): Promise<void> {
  await rm(dataDir, { recursive: true, force: true }).catch(() => undefined);
}

export const ECHO = 'export default async (e) => ({ echo: e, pid: process.pid })';
