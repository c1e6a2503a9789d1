/**
 * V8 code caches of function bundles, one file per key (a function version's image digest), kept
 * by the runtime beside its containers. A cache is made inside the function's first container
 * and only ever handed to containers started with the same key: the host stores the bytes and
 * never reads them. Derived data: a lost or stale file only costs the next start its cache (V8
 * rejects one that does not fit, and the agent makes a new one).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Files kept; past this the least recently written go (a version's cache is remade if it runs again). */
const MAX_FILES = 256;

export class CodeCacheStore {
  constructor(private readonly dir: string) {}

  /** The cache for this key, if one was stored. */
  async get(key: string): Promise<Buffer | undefined> {
    return readFile(this.path(key)).catch(() => undefined);
  }

  /** Stores (or replaces) the cache for this key; a reader sees the old file or the new one, whole. */
  async put(key: string, data: Buffer): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const tmp = join(this.dir, `.tmp-${randomBytes(6).toString('hex')}`);
    await writeFile(tmp, data, { mode: 0o600 });
    await rename(tmp, this.path(key));
    await this.trim();
  }

  private path(key: string): string {
    return join(this.dir, createHash('sha256').update(key).digest('hex').slice(0, 32));
  }

  private async trim(): Promise<void> {
    const names = (await readdir(this.dir)).filter((n) => !n.startsWith('.'));
    if (names.length <= MAX_FILES) return;
    const aged = await Promise.all(names.map(async (n) => ({ n, mtime: (await stat(join(this.dir, n)).catch(() => undefined))?.mtimeMs ?? 0 })));
    aged.sort((a, b) => a.mtime - b.mtime);
    await Promise.all(aged.slice(0, aged.length - MAX_FILES).map(({ n }) => rm(join(this.dir, n), { force: true })));
  }
}
