/**
 * cgroup v1 (hybrid) helpers for what runc does not do for us: reading OOM counters and usage,
 * and removing the residue a SIGKILLed runc leaves (a frozen `runc init`, stray pids, dirs in
 * every hierarchy). Paths are "relative" cgroup paths such as /hearth/<instance>/<id>.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readMountInfo } from './mountinfo.ts';

interface Hierarchy {
  mountpoint: string;
  controllers: string[];
  v2: boolean;
}

let cached: Hierarchy[] | undefined;

/** Every mounted cgroup hierarchy (v1 controllers, named ones like name=systemd, and the v2 one). */
export async function hierarchies(): Promise<Hierarchy[]> {
  cached ??= (await readMountInfo())
    .filter((m) => m.fstype === 'cgroup' || m.fstype === 'cgroup2')
    .map((m) => ({
      mountpoint: m.mountpoint,
      controllers: m.fstype === 'cgroup' ? m.superOptions.filter((o) => o !== 'rw' && o !== 'ro') : [],
      v2: m.fstype === 'cgroup2',
    }));
  return cached;
}

export async function cgroupDirs(rel: string): Promise<string[]> {
  return (await hierarchies()).map((h) => join(h.mountpoint, rel));
}

async function controllerDir(controller: string, rel: string): Promise<string | null> {
  const h = (await hierarchies()).find((x) => x.controllers.includes(controller));
  return h ? join(h.mountpoint, rel) : null;
}

async function readOrNull(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return null;
  }
}

/** The memory cgroup's `oom_kill` counter (memory.oom_control); null if the cgroup is gone. */
export async function readOomKills(rel: string): Promise<number | null> {
  const dir = await controllerDir('memory', rel);
  const text = dir && (await readOrNull(join(dir, 'memory.oom_control')));
  if (text == null) return null;
  const m = /^oom_kill (\d+)$/m.exec(text);
  return m ? Number(m[1]) : 0;
}

/** memory.usage_in_bytes, 0 if the cgroup is gone. */
export async function readMemoryUsage(rel: string): Promise<number> {
  const dir = await controllerDir('memory', rel);
  const text = dir && (await readOrNull(join(dir, 'memory.usage_in_bytes')));
  return text == null ? 0 : Number(text.trim()) || 0;
}

/**
 * Sets a v1 memory cgroup's limit with swap disabled (memory+swap = limit), as `runc update
 * --memory --memory-swap` does, but without spawning runc (a few ms on a busy host). The kernel
 * wants limit ≤ memsw.limit at every step, so the order depends on the direction. false when there
 * is no v1 memory hierarchy (the caller falls back to runc update).
 */
export async function setMemoryLimit(rel: string, bytes: number): Promise<boolean> {
  const dir = await controllerDir('memory', rel);
  if (!dir) return false;
  const limit = join(dir, 'memory.limit_in_bytes');
  const memsw = join(dir, 'memory.memsw.limit_in_bytes');
  // Synchronous: cgroupfs answers from memory in microseconds, where four trips through the
  // thread pool cost a stem cell's first invoke 1-2 ms on a busy host.
  const current = Number(readFileSync(limit, 'utf8').trim());
  const hasMemsw = existsSync(memsw);
  const order = bytes < current ? [limit, memsw] : [memsw, limit];
  for (const file of order) if (file === limit || hasMemsw) writeFileSync(file, String(bytes));
  return true;
}

/** Child cgroup names under rel, in any hierarchy. */
export async function childCgroups(rel: string): Promise<string[]> {
  const names = new Set<string>();
  for (const dir of await cgroupDirs(rel)) {
    try {
      for (const e of await readdir(dir, { withFileTypes: true })) if (e.isDirectory()) names.add(e.name);
    } catch {
      // Hierarchy without this path.
    }
  }
  return [...names];
}

/** Every pid in rel or below, across hierarchies. */
export async function cgroupPids(rel: string): Promise<number[]> {
  const pids = new Set<number>();
  const walk = async (dir: string): Promise<void> => {
    const text = await readOrNull(join(dir, 'cgroup.procs'));
    if (text == null) return;
    for (const l of text.split('\n')) if (l) pids.add(Number(l));
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) await walk(join(dir, e.name));
  };
  for (const dir of await cgroupDirs(rel)) await walk(dir);
  return [...pids];
}

/**
 * runc freezes a v1 cgroup while it rewrites device rules; a runc killed in that window leaves the
 * container FROZEN, and SIGKILL is not delivered to frozen tasks. Thaw before killing.
 */
async function thaw(rel: string): Promise<void> {
  const dir = await controllerDir('freezer', rel);
  if (!dir) return;
  const walk = async (d: string): Promise<void> => {
    try {
      await writeFile(join(d, 'freezer.state'), 'THAWED');
    } catch {
      return;
    }
    try {
      for (const e of await readdir(d, { withFileTypes: true })) if (e.isDirectory()) await walk(join(d, e.name));
    } catch {
      // Gone meanwhile.
    }
  };
  await walk(dir);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * SIGKILLs every process in the container's cgroup, as `runc kill --all KILL` would, without
 * spawning runc (a Go binary: tens of ms on a busy host, paid by every eviction and idle
 * timeout). runc puts all of a container's processes in one cgroup per hierarchy, so one
 * hierarchy's list is enough. Returns how many were signalled (0: none there yet, or none left).
 */
export async function killCgroup(rel: string): Promise<number> {
  const dir = (await controllerDir('pids', rel)) ?? (await controllerDir('memory', rel));
  if (!dir) return 0;
  await thaw(rel);
  const text = await readOrNull(join(dir, 'cgroup.procs'));
  let signalled = 0;
  for (const line of text?.split('\n') ?? []) {
    if (!line) continue;
    try {
      process.kill(Number(line), 'SIGKILL');
      signalled++;
    } catch {
      // Exited meanwhile.
    }
  }
  return signalled;
}

/**
 * Kills whatever still runs in rel (and below) and removes its dirs in every hierarchy,
 * deepest first. Retries while the kernel finishes tearing the tasks down (rmdir → EBUSY).
 * Returns the dirs that could not be removed in time.
 */
export async function removeCgroup(rel: string, timeoutMs = 5000): Promise<string[]> {
  // This kills everything below rel: refuse anything that is not clearly Hearth's own subtree.
  if (!/^\/hearth\/[^/]+(\/[^/]+)*$/.test(rel)) throw new Error(`refusing to remove cgroup ${rel}`);
  const until = Date.now() + timeoutMs;
  let left: string[] = [];
  for (;;) {
    await thaw(rel);
    for (const pid of await cgroupPids(rel)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    left = [];
    for (const dir of await cgroupDirs(rel)) left.push(...(await rmdirTree(dir)));
    if (left.length === 0 || Date.now() > until) return left;
    await sleep(20);
  }
}

/** rmdir children first; returns dirs that still exist. ENOENT counts as removed. */
async function rmdirTree(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? [] : [dir];
  }
  const left: string[] = [];
  for (const e of entries) if (e.isDirectory()) left.push(...(await rmdirTree(join(dir, e.name))));
  try {
    await rmdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') left.push(dir);
  }
  return left;
}

/** rmdir only if empty (a parent shared with other containers); never kills anything. */
export async function removeEmptyCgroup(rel: string): Promise<void> {
  for (const dir of await cgroupDirs(rel)) {
    try {
      await rmdir(dir);
    } catch {
      // Not empty or not there: both fine.
    }
  }
}
