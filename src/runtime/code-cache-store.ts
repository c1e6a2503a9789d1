/**
 * V8 code caches of function bundles, one file per key (the pool's: function name and image
 * digest), kept by the runtime beside its containers. A cache is made inside one of the
 * function's containers and only ever handed to containers started with the same key: the host
 * stores the bytes and never reads them. The key must name the exact bundle (a digest does): V8
 * checks little of the source a cache is used with (its length). Derived data: a lost or stale
 * file only costs the next start its cache (V8 rejects one that does not fit, and the agent
 * makes a new one).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export type CodeCacheKind = 'compiled' | 'ran';

/** Files kept; past this the least recently written go (a version's cache is remade if it runs again). */
const MAX_FILES = 256;

export class CodeCacheStore {
  private readonly writing = new Set<Promise<void>>();

  constructor(private readonly dir: string) {}

  /** Waits for the writes in progress (the runtime's close: nothing is written after it). */
  async flush(): Promise<void> {
    await Promise.all(this.writing);
  }

  /** The cache for this key, if one was stored, and whether it is one of compiled code only. */
  async get(key: string): Promise<{ data: Buffer; compiledOnly: boolean } | undefined> {
    const ran = await readFile(this.path(key, 'ran')).catch(() => undefined);
    if (ran) return { data: ran, compiledOnly: false };
    const compiled = await readFile(this.path(key, 'compiled')).catch(() => undefined);
    return compiled ? { data: compiled, compiledOnly: true } : undefined;
  }

  /** Whether either kind is stored: a stat, not a read (a cache can be megabytes). */
  async has(key: string): Promise<boolean> {
    const found = await Promise.all((['ran', 'compiled'] as const).map((kind) => stat(this.path(key, kind)).then(() => true, () => false)));
    return found.includes(true);
  }

  /**
   * Stores (or replaces) the cache for this key; a reader sees the old file or the new one, whole.
   * `compiled`: made by compiling only (fewer functions in it); `ran`: after the code ran, which
   * supersedes a compiled one.
   */
  put(key: string, data: Buffer, kind: CodeCacheKind): Promise<void> {
    const write = this.write(key, data, kind);
    const settled = write.catch(() => undefined);
    this.writing.add(settled);
    void settled.then(() => this.writing.delete(settled));
    return write;
  }

  /** Drops the key's caches (its function version is gone). */
  async remove(key: string): Promise<void> {
    await Promise.all((['ran', 'compiled'] as const).map((kind) => rm(this.path(key, kind), { force: true })));
  }

  private async write(key: string, data: Buffer, kind: CodeCacheKind): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const tmp = join(this.dir, `.tmp-${randomBytes(6).toString('hex')}`);
    await writeFile(tmp, data, { mode: 0o600 });
    await rename(tmp, this.path(key, kind));
    if (kind === 'ran') await rm(this.path(key, 'compiled'), { force: true });
    await this.trim();
  }

  private path(key: string, kind: CodeCacheKind): string {
    const name = createHash('sha256').update(key).digest('hex').slice(0, 32);
    return join(this.dir, kind === 'compiled' ? `${name}.compiled` : name);
  }

  private async trim(): Promise<void> {
    const names = (await readdir(this.dir)).filter((n) => !n.startsWith('.'));
    if (names.length <= MAX_FILES) return;
    const aged = await Promise.all(names.map(async (n) => ({ n, mtime: (await stat(join(this.dir, n)).catch(() => undefined))?.mtimeMs ?? 0 })));
    aged.sort((a, b) => a.mtime - b.mtime);
    await Promise.all(aged.slice(0, aged.length - MAX_FILES).map(({ n }) => rm(join(this.dir, n), { force: true })));
  }
}
