/**
 * Host-side observations for tests that run real containers: what runc, the mount table and
 * cgroupfs say, looked up the way an operator would, so a test sees what Hearth left behind
 * rather than what Hearth believes it left behind.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { TestHearth } from './hearth.ts';

export const RUNC = process.env.HEARTH_OCI_RUNTIME ?? 'runc';

/** Container tests need root, runc, overlayfs and tini; without them they are skipped, not failed. */
export const canRunContainers: boolean = (() => {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync(RUNC, ['--version'], { stdio: 'ignore' });
  } catch {
    return false;
  }
  return readFileSync('/proc/filesystems', 'utf8').includes('overlay') && existsSync('/usr/bin/tini-static');
})();

/** Polls `check` until it holds or `timeoutMs` passes (then throws). */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The runc state root of one runtime instance. */
export function runcRoot(instance: string): string {
  return `/run/hearth/${instance}`;
}

/** Ids `runc list` shows under the instance's root. */
export function runcIds(instance: string): string[] {
  const root = runcRoot(instance);
  if (!existsSync(root)) return [];
  const out = execFileSync(RUNC, ['--root', root, 'list', '-f', 'json'], { encoding: 'utf8' });
  return ((JSON.parse(out.trim() || 'null') as { id: string }[] | null) ?? []).map((s) => s.id);
}

/** Pids of the runtime's process spawner (its command line ends with the instance). */
export function spawnerPids(instance: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', `spawner-process\\.cjs ${instance}$`], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/** Every cgroup dir (in any hierarchy) of the container, or of the instance if id is omitted. */
export function cgroupDirsOf(instance: string, id?: string): string[] {
  const found: string[] = [];
  for (const h of readdirSync('/sys/fs/cgroup')) {
    const dir = path.join('/sys/fs/cgroup', h, 'hearth', instance, id ?? '');
    if (existsSync(dir)) found.push(dir);
  }
  return found;
}

/** Mount points at or below `dir`. */
export function mountsBelow(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => p !== undefined && (p === dir || p.startsWith(dir + '/')));
}

/** runc's root path for a container: beside its runc state, so a user-namespaced root can reach it (runc mounts the rootfs there, in the container's namespace only). */
export function rootfsMountPoint(instance: string, id = ''): string {
  return path.join('/run/hearth', `${instance}.rootfs`, id).replace(/\/$/, '');
}

/** Where the runtime bind-mounts the dirs holding layer dirs, for runc to reach them from a user namespace. */
export function layerBindsBase(instance: string): string {
  return path.join('/run/hearth', `${instance}.layers`);
}

async function findDirsNamed(root: string, name: string, depth: number): Promise<string[]> {
  if (depth < 0 || !existsSync(root)) return [];
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const p = path.join(root, e.name);
    if (e.name === name) found.push(p);
    else found.push(...(await findDirsNamed(p, name, depth - 1)));
  }
  return found;
}

/**
 * What the host still holds for a container of a whole Hearth, whose instance name a test does
 * not know: runc state dirs anywhere under /run, overlay mounts in the mount table, cgroup dirs
 * in every controller, and the bundle dir under the data dir. Empty means fully cleaned up.
 */
export async function containerLeftovers(h: TestHearth, containerId: string): Promise<string[]> {
  const left: string[] = [];
  for (const dir of await findDirsNamed('/run', containerId, 4)) {
    if (existsSync(path.join(dir, 'state.json'))) left.push(`runc state ${dir}`);
  }
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  for (const line of mountinfo.split('\n')) if (line.includes(containerId)) left.push(`mount ${line.split(' ')[4]}`);
  for (const controller of ['memory', 'pids', 'cpu', 'devices', 'freezer']) {
    for (const dir of await findDirsNamed(path.join('/sys/fs/cgroup', controller, 'hearth'), containerId, 3)) left.push(`cgroup ${dir}`);
  }
  for (const dir of await findDirsNamed(h.dataDir, containerId, 4)) left.push(`bundle ${dir}`);
  return left;
}
