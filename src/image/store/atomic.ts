import { randomBytes } from 'node:crypto';
import { open, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';

/** A unique name for a temp file or dir; the pid helps when reading leftovers after a crash. */
export function tempName(prefix: string): string {
  return `${prefix}-${process.pid}-${randomBytes(6).toString('hex')}`;
}

/** fsync a file that was written through another descriptor (Linux flushes the inode either way). */
export async function fsyncPath(file: string): Promise<void> {
  const fh = await open(file, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Make a rename inside `dir` durable. */
export async function fsyncDir(dir: string): Promise<void> {
  await fsyncPath(dir);
}

/**
 * Replace `file` so readers see the old or the new content, never a torn one, even after a
 * crash: write a temp file beside it, fsync, rename over, fsync the directory.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, tempName(`.${path.basename(file)}.tmp`));
  try {
    const fh = await open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dir);
}

/** Removes entries of a temp dir older than `maxAgeMs`: leftovers of writers that crashed. */
export async function removeStaleTemp(tmpDir: string, maxAgeMs: number): Promise<void> {
  const now = Date.now();
  for (const name of await readdir(tmpDir)) {
    const p = path.join(tmpDir, name);
    const st = await stat(p).catch(() => undefined);
    if (st && now - st.mtimeMs > maxAgeMs) await rm(p, { recursive: true, force: true });
  }
}
