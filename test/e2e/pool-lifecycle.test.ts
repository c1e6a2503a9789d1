import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_STEM_CELLS } from '../../src/config/index.ts';
import { ManagedRedis } from '../../src/redis/index.ts';
import { startHearth } from '../helpers/hearth.ts';
import { containerLeftovers, runcIds, waitFor } from '../helpers/host.ts';
import { TEMPLATE_IMAGES_DIR } from '../helpers/template.ts';

/**
 * Hearth as an operator runs it (`src/main.ts` in its own process), killed with SIGKILL and
 * stopped with SIGTERM; what it leaves is checked with runc list, the mount table and the cgroup tree.
 */
let work: string;
let dataDir: string;
let redis: ManagedRedis;
let instance: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'hearth-lc-'));
  dataDir = path.join(work, 'd');
  await mkdir(dataDir, { recursive: true });
  if (existsSync(TEMPLATE_IMAGES_DIR)) execFileSync('cp', ['-al', TEMPLATE_IMAGES_DIR, path.join(dataDir, 'images')]);
  redis = new ManagedRedis(path.join(work, 'r'));
  await redis.start();
  instance = createHash('sha256').update(dataDir).digest('hex').slice(0, 12);
});

afterAll(async () => {
  await redis?.close();
  await rm(work, { recursive: true, force: true });
});

interface Server {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
}

function withoutStemCellsSetting(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { HEARTH_STEM_CELLS: _ignored, ...rest } = env;
  return rest;
}

async function startServer(): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    // info: the 'listening' log line is how the test learns the port.
    // The stem cells are the default's (no HEARTH_STEM_CELLS): what an operator's server leaves is checked.
    env: { ...withoutStemCellsSetting(process.env), HEARTH_PORT: '0', HEARTH_DATA_DIR: dataDir, HEARTH_FUNCTIONS_DIR: '', REDIS_URL: redis.url, HEARTH_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (b: Buffer) => {
      output += b.toString();
      const m = /listening on (http:\/\/[0-9.:]+)/.exec(output);
      if (m) resolve(m[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (b: Buffer) => (output += b.toString()));
    void exited.then(() => reject(new Error(`hearth exited before listening:\n${output}`)));
  });
  return { child, url, exited };
}

async function api(url: string, method: string, p: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url + p, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** This instance's mounts: beside the runc root (container roots, from older versions; the layers' bind), or under the data dir. */
async function mountsUnderDataDir(): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  const besideRunc = [`/run/hearth/${instance}.rootfs/`, `/run/hearth/${instance}.layers/`];
  return text.split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => m.startsWith(dataDir + '/') || besideRunc.some((b) => m.startsWith(b)));
}

async function cgroupChildren(): Promise<string[]> {
  const dir = `/sys/fs/cgroup/memory/hearth/${instance}`;
  if (!existsSync(dir)) return [];
  const { readdir } = await import('node:fs/promises');
  return (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
}

/** containerLeftovers only needs the data dir of the Hearth that made the container. */
const leftovers = (id: string) => containerLeftovers({ dataDir } as Parameters<typeof containerLeftovers>[0], id);

describe('clean-up', () => {
  it('on start, removes every container, mount and cgroup a SIGKILLed Hearth left behind', async () => {
    const s = await startServer();
    expect((await api(s.url, 'POST', '/v1/functions', { name: 'kept', source: 'export default () => 1', config: { minWarm: 2 } })).status).toBe(201);
    let ids: string[] = [];
    await waitFor(async () => {
      const pool = (await api(s.url, 'GET', '/v1/pool')).body;
      ids = [...pool.containers.map((c: { id: string }) => c.id), ...pool.stemCells.filter((c: { state: string }) => c.state === 'ready').map((c: { id: string }) => c.id)];
      return pool.containers.filter((c: { state: string }) => c.state === 'idle').length === 2 && ids.length === 2 + DEFAULT_STEM_CELLS;
    }, 20_000);
    s.child.kill('SIGKILL');
    await s.exited;
    // Left behind: still running under runc and in the cgroup tree, and the bind of the layers'
    // dir. (No container's rootfs is on the host: runc mounts it in the container's namespace.)
    expect(runcIds(instance).sort()).toEqual(expect.arrayContaining(ids));
    expect(await cgroupChildren()).toEqual(expect.arrayContaining(ids));
    expect(await mountsUnderDataDir()).toEqual([expect.stringMatching(/\.layers\/0$/)]);

    const h = await startHearth({ dataDir, env: { REDIS_URL: redis.url } });
    try {
      for (const id of ids) expect(await leftovers(id)).toEqual([]);
      expect(runcIds(instance).filter((id) => ids.includes(id))).toEqual([]);
    } finally {
      await h.hearth.close();
    }
    expect(runcIds(instance)).toEqual([]);
    expect(await mountsUnderDataDir()).toEqual([]);
    expect(await cgroupChildren()).toEqual([]);
  });

  it('on SIGTERM, finishes in-flight invocations, then removes all its containers', async () => {
    const s = await startServer();
    const src = 'export default async () => { await new Promise((r) => setTimeout(r, 1500)); return "finished"; }';
    expect((await api(s.url, 'POST', '/v1/functions', { name: 'inflight', source: src })).status).toBe(201);
    const call = api(s.url, 'POST', '/v1/functions/inflight/invoke', {});
    await waitFor(async () => (await api(s.url, 'GET', '/v1/pool')).body.containers.some((c: { function: string; state: string }) => c.function === 'inflight' && c.state === 'busy'), 10_000);
    s.child.kill('SIGTERM');
    const res = await call;
    expect(res).toEqual({ status: 200, body: 'finished' });
    expect(await s.exited).toBe(0);
    expect(runcIds(instance)).toEqual([]);
    expect(await mountsUnderDataDir()).toEqual([]);
    expect(await cgroupChildren()).toEqual([]);
  });
});

describe('zombie-free', () => {
  it('reaps orphaned children, and recycling a container ends all its processes', async () => {
    const h = await startHearth();
    try {
      const src = `
import { spawn } from 'node:child_process';
import fs from 'node:fs';
export default async (e) => {
  if (e.spawn) {
    // A child that starts a grandchild and exits at once: the grandchild is orphaned to pid 1.
    for (let i = 0; i < 3; i++) {
      spawn(process.execPath, ['-e', "require('child_process').spawn(process.execPath, ['-e', 'setTimeout(() => {}, 50)'], { detached: true, stdio: 'ignore' }).unref()"], { stdio: 'ignore' });
    }
    // And one that outlives every invocation.
    spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)'], { detached: true, stdio: 'ignore' }).unref();
    return 'spawned';
  }
  const stats = fs.readdirSync('/proc').filter((p) => /^\\d+$/.test(p))
    .map((p) => { try { return fs.readFileSync('/proc/' + p + '/stat', 'utf8'); } catch { return ''; } }).filter(Boolean);
  return { zombies: stats.filter((s) => s.slice(s.lastIndexOf(')') + 2).startsWith('Z')).length, processes: stats.length };
};`;
      await h.deploy('spawner', src, { idleTimeoutMs: 600_000 });
      expect((await h.invoke('spawner', { spawn: true })).body).toBe('spawned');
      let last: { zombies: number; processes: number } = { zombies: -1, processes: 0 };
      // tini, the agent and the long-lived child remain; the short-lived ones are reaped.
      await waitFor(async () => {
        last = (await h.invoke('spawner', {})).body;
        return last.zombies === 0 && last.processes === 3;
      }, 10_000, 200);
      expect(last).toEqual({ zombies: 0, processes: 3 });
      const [c] = ((await h.api('GET', '/v1/pool')).body.containers as { id: string; function: string }[]).filter((x) => x.function === 'spawner');
      const procs = (await readFile(`/sys/fs/cgroup/pids/hearth/${h.hearth.instance}/${c!.id}/cgroup.procs`, 'utf8')).split('\n').filter(Boolean);
      expect(procs.length).toBe(3);
      // A redeploy recycles the container: every process in it goes, with its cgroup.
      // (A real change: a comment alone bundles to the same image, which is no new version.)
      await h.deploy('spawner', src + '\nexport const revision = 2;', { idleTimeoutMs: 600_000 });
      await waitFor(async () => (await containerLeftovers(h, c!.id)).length === 0, 10_000);
      for (const pid of procs) expect(existsSync(`/proc/${pid}`)).toBe(false);
    } finally {
      await h.close();
    }
  });
});
