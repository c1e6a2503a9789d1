/** Host-side observations for integration tests: what runc, the mount table and cgroupfs say. */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const RUNC = process.env.HEARTH_OCI_RUNTIME ?? 'runc';

/** Integration tests need root, runc and overlayfs; without them they are skipped, not failed. */
export const canRunContainers: boolean = (() => {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync(RUNC, ['--version'], { stdio: 'ignore' });
  } catch {
    return false;
  }
  return readFileSync('/proc/filesystems', 'utf8').includes('overlay') && existsSync('/usr/bin/tini-static');
})();

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

/** Every cgroup dir (in any hierarchy) of the container, or of the instance if id is omitted. */
export function cgroupDirsOf(instance: string, id?: string): string[] {
  const found: string[] = [];
  for (const h of readdirSync('/sys/fs/cgroup')) {
    const dir = join('/sys/fs/cgroup', h, 'hearth', instance, id ?? '');
    if (existsSync(dir)) found.push(dir);
  }
  return found;
}

/** Mount points at or below path. */
export function mountsBelow(path: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => p !== undefined && (p === path || p.startsWith(path + '/')));
}

/** Where the runtime mounts a container's rootfs (beside its runc state, see src/runtime/rootfs.ts). */
export function rootfsMountPoint(instance: string, id = ''): string {
  return join('/run/hearth', `${instance}.rootfs`, id).replace(/\/$/, '');
}
