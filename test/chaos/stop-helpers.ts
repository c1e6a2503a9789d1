/**
 * What the stop tests share: a child Hearth on its own data dir and managed Redis, a function
 * that sleeps as long as its event says, and what the host still holds for that Hearth.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { prepareDataDir, startChildHearth, type ChildHearth } from '../helpers/child-hearth.ts';
import { cgroupDirsOf, mountsBelow, rootfsMountPoint, runcIds, spawnerPids, waitFor } from '../helpers/host.ts';

export const SLEEPER = `export default async (event) => {
  await new Promise((r) => setTimeout(r, event.ms ?? 0));
  return { n: event.n ?? null };
};`;

export interface StopFixture {
  dataDir: string;
  instance: string;
  start(env?: Record<string, string>): Promise<ChildHearth>;
  api<T = any>(h: ChildHearth, method: string, path: string, body?: unknown): Promise<{ status: number; body: T; headers: Headers }>;
  cleanup(): Promise<void>;
}

export async function stopFixture(): Promise<StopFixture> {
  const dataDir = await prepareDataDir();
  const instance = createHash('sha256').update(dataDir).digest('hex').slice(0, 12);
  const started: ChildHearth[] = [];
  return {
    dataDir,
    instance,
    async start(env = {}) {
      const h = await startChildHearth({ HEARTH_DATA_DIR: dataDir, HEARTH_JOB_LOCK_MS: '2000', ...env }, { ownGroup: true });
      started.push(h);
      return h;
    },
    async api(h, method, path, body) {
      const res = await fetch(h.url + path, {
        method,
        ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
    },
    async cleanup() {
      // SIGTERM, so a server still running removes its containers and mounts; SIGKILL only if it hangs.
      for (const h of started) {
        const stopped = await Promise.race([h.stop().then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 20_000).unref())]);
        if (!stopped) await h.kill();
      }
      stopStrayRedis(dataDir);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Pids of redis-server processes serving this data dir (their socket path names it). */
export function redisServersOf(dataDir: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', `redis-server.*${dataDir}/`], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * A SIGKILLed Hearth cannot stop its redis-server; until the managed Redis dies with its owner,
 * stop it the way its owner would have (SIGTERM flushes the AOF) so the restart finds one Redis.
 */
export function stopStrayRedis(dataDir: string): void {
  for (const pid of redisServersOf(dataDir)) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}

/** Everything the host still holds for this Hearth: containers runc knows, rootfs mounts, cgroups, its redis-server and process spawner. */
export function leftovers(f: StopFixture): string[] {
  return [
    ...runcIds(f.instance).map((id) => `container ${id}`),
    ...mountsBelow(rootfsMountPoint(f.instance)).map((m) => `mount ${m}`),
    ...mountsBelow(f.dataDir).map((m) => `mount ${m}`),
    ...cgroupDirsOf(f.instance).map((d) => `cgroup ${d}`),
    ...redisServersOf(f.dataDir).map((pid) => `redis-server ${pid}`),
    ...spawnerPids(f.instance).map((pid) => `process spawner ${pid}`),
  ];
}

/** Lines of the child's output that are not JSON objects (every log line must be one). */
export function nonJsonLines(output: string): string[] {
  return output.split('\n').filter((line) => {
    if (line.trim() === '') return false;
    try {
      return typeof JSON.parse(line) !== 'object';
    } catch {
      return true;
    }
  });
}

/** Sends `signal` to the child's whole process group, as a terminal's Ctrl-C or systemd does. */
export function signalGroup(h: ChildHearth, signal: NodeJS.Signals): void {
  process.kill(-h.child.pid!, signal);
}

/** How long until the child exited (ms); throws with its output's tail past `boundMs`. */
export async function timeToExit(h: ChildHearth, boundMs: number): Promise<number> {
  const started = Date.now();
  await Promise.race([h.exited, new Promise((_, reject) => setTimeout(() => reject(new Error(`did not exit within ${boundMs} ms; its output ended with:\n${h.output().slice(-4000)}`)), boundMs))]);
  return Date.now() - started;
}

/** Waits until every id's record is final; returns the records. */
export async function finalRecords(f: StopFixture, h: ChildHearth, ids: string[], timeoutMs: number): Promise<any[]> {
  const records = new Map<string, any>();
  await waitFor(async () => {
    for (const id of ids) {
      if (records.has(id)) continue;
      const { status, body } = await f.api(h, 'GET', `/v1/invocations/${id}`);
      if (status === 200 && (body.status === 'succeeded' || body.status === 'failed')) records.set(id, body);
    }
    return records.size === ids.length;
  }, timeoutMs, 200);
  return ids.map((id) => records.get(id));
}

/** Waits until the pool shows at least `n` invocations running. */
export async function inFlight(f: StopFixture, h: ChildHearth, n: number, timeoutMs = 20_000): Promise<void> {
  await waitFor(async () => {
    const { body } = await f.api<{ containers: { inFlight: number }[] }>(h, 'GET', '/v1/pool');
    return body.containers.reduce((sum, c) => sum + c.inFlight, 0) >= n;
  }, timeoutMs, 50);
}
