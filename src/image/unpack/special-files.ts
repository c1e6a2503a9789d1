import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * Device nodes and xattrs, which Node cannot make: we shell out. Only foreign images need these
 * (whiteouts, opaque dirs, the odd device node); Hearth's own layers never do, so the cost of a
 * process per node does not matter.
 */

const run = promisify(execFile);

/** A char or block device (or fifo). An overlayfs whiteout is `mknod(path, 'c', 0, 0)`. */
export async function mknod(file: string, kind: 'c' | 'b' | 'p', major = 0, minor = 0, mode = 0o600): Promise<void> {
  const args = ['-m', mode.toString(8), file, kind];
  if (kind !== 'p') args.push(String(major), String(minor));
  await run('mknod', args);
}

type XattrSetter = (dir: string) => Promise<void>;
const OPAQUE_XATTRS = ['user.overlay.opaque', 'trusted.overlay.opaque'];
let opaqueSetter: Promise<XattrSetter> | undefined;

/**
 * Marks a directory opaque for overlayfs, in both xattr namespaces: `user.overlay.opaque=y` for
 * the containers' rootfs (runc mounts it in the container's user namespace with `userxattr`,
 * where trusted.* cannot be read) and `trusted.overlay.opaque=y` for a root mount on the host
 * (needs root). Uses `setfattr` when the `attr` package is installed, else python3's os.setxattr
 * (Debian 12 always has python3, rarely attr).
 */
export async function setOpaque(dir: string): Promise<void> {
  opaqueSetter ??= pickOpaqueSetter();
  await (await opaqueSetter)(dir);
}

async function pickOpaqueSetter(): Promise<XattrSetter> {
  const setfattr = await findExecutable('setfattr');
  if (setfattr) {
    return async (dir) => {
      for (const name of OPAQUE_XATTRS) await run(setfattr, ['-n', name, '-v', 'y', dir]);
    };
  }
  // The system python first: a pyenv shim on PATH costs a shell script per call.
  const python = (await isExecutable('/usr/bin/python3')) ? '/usr/bin/python3' : await findExecutable('python3');
  if (python) {
    return async (dir) => {
      await run(python, ['-c', 'import os, sys\nfor name in sys.argv[2:]: os.setxattr(sys.argv[1], name, b"y")', dir, ...OPAQUE_XATTRS]);
    };
  }
  throw new Error('cannot set overlay opaque xattrs: neither setfattr (package attr) nor python3 is installed');
}

async function findExecutable(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
