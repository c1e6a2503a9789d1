/**
 * Removing everything one container leaves behind, in an order that works even after runc itself
 * was SIGKILLed (frozen `runc init`, state dir without a process, pids still in the cgroup).
 * Used by Container.destroy and by Runtime.start for a previous Hearth's leftovers.
 */
import { rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { removeCgroup } from './cgroups.ts';
import { mountsUnder, rootfsDir, unmount } from './rootfs.ts';
import { isNotExist, type Runc } from './runc.ts';

export interface Residue {
  runc: Runc;
  id: string;
  cgroupPath: string;
  bundleDir: string;
  /**
   * Its `runc run` exited: no process of runc's is left, and what `runc delete` would remove (the
   * cgroup, the state dir) is removed here, without spawning runc.
   */
  stopped?: boolean;
}

/** Best effort, step by step; returns what could not be cleaned (empty when all is gone). */
export async function removeResidue(r: Residue): Promise<string[]> {
  const problems: string[] = [];
  let deleteError = r.stopped ? null : await runcDelete(r);
  try {
    // delete -f fails on a container whose runc died mid-start, leaving pids in the cgroup.
    const left = await removeCgroup(r.cgroupPath);
    if (left.length) problems.push(`cgroup dirs left: ${left.join(', ')}`);
  } catch (e) {
    problems.push(`cgroup: ${(e as Error).message}`);
  }
  if (deleteError) {
    // The processes are gone now, so a second delete usually works; else drop the state by hand.
    deleteError = await runcDelete(r);
  }
  if (r.stopped || deleteError) await rm(join(r.runc.root, r.id), { recursive: true, force: true }).catch(() => {});
  try {
    for (const m of await mountsUnder(r.bundleDir)) await unmount(m);
    await rm(r.bundleDir, { recursive: true, force: true });
    // runc's root path; mounted on the host only by Hearth versions before runc mounted the rootfs.
    const rootfs = rootfsDir(r.runc.root, r.id);
    await unmount(rootfs);
    await rmdir(rootfs).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  } catch (e) {
    problems.push(`rootfs: ${(e as Error).message}`);
  }
  return problems;
}

/** null when deleted or unknown to runc, else the error text. */
async function runcDelete(r: Residue): Promise<string | null> {
  try {
    await r.runc.delete(r.id, true);
    return null;
  } catch (e) {
    const msg = (e as Error).message;
    return isNotExist(msg) ? null : msg;
  }
}
