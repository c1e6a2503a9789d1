import { readFile, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { TestHearth } from './hearth.ts';

/** Polls `check` until it holds or `timeoutMs` passes (then throws). */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
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
 * What the host still holds for a container, looked up the way an operator would: runc state
 * dirs under /run, overlay mounts in the mount table, cgroup dirs in every controller, and the
 * bundle dir under the data dir. Empty means fully cleaned up.
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
