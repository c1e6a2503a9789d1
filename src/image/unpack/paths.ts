import { lstat, mkdir, readlink } from 'node:fs/promises';
import path from 'node:path';

/**
 * A tar entry name as a path relative to the layer root ("" is the root itself). Absolute names
 * and names whose ".." climbs above the root are refused, not rewritten: a layer that tries that
 * is hostile or broken, and either way must not be unpacked.
 */
export function entryPath(name: string): string {
  if (name.includes('\0')) throw new Error(`tar entry name contains NUL: ${JSON.stringify(name)}`);
  if (name.startsWith('/')) throw new Error(`tar entry has an absolute path: ${name}`);
  const normalized = path.posix.normalize(name);
  if (normalized === '..' || normalized.startsWith('../')) throw new Error(`tar entry escapes the layer: ${name}`);
  const rel = normalized.replace(/\/+$/, '');
  return rel === '.' ? '' : rel;
}

const MAX_SYMLINK_HOPS = 40; // as Linux's ELOOP limit

/**
 * Resolves the directory `rel` inside `root` the way the container will see it: symlinks met on
 * the way are followed but interpreted with `root` as "/", and ".." stops at `root`. The walk only
 * ever steps into real directories under `root`, so a symlink such as `etc -> /etc` or
 * `x -> ../../..` cannot redirect a later write out of the layer. With `create`, missing
 * components are made (tars may omit parent entries).
 */
export async function resolveDirInRoot(root: string, rel: string, create: boolean): Promise<string> {
  const pending = rel.split('/').filter((s) => s !== '' && s !== '.');
  let current = root;
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === '..') {
      if (current !== root) current = path.dirname(current);
      continue;
    }
    const next = path.join(current, part);
    const st = await lstat(next).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (st === undefined) {
      if (!create) throw new Error(`${rel}: ${part} does not exist in the layer`);
      await mkdir(next, { mode: 0o755 });
      current = next;
    } else if (st.isDirectory()) {
      current = next;
    } else if (st.isSymbolicLink()) {
      if (++hops > MAX_SYMLINK_HOPS) throw new Error(`${rel}: too many levels of symbolic links`);
      const target = await readlink(next);
      if (target.startsWith('/')) current = root;
      pending.unshift(...target.split('/').filter((s) => s !== '' && s !== '.'));
    } else {
      throw new Error(`${rel}: ${part} is not a directory`);
    }
  }
  return current;
}
