import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { digestHex, sha256Digest } from '../digest.ts';
import { CorruptContentError } from '../errors.ts';
import { fsyncDir, fsyncPath, tempName } from './atomic.ts';

export interface BlobRef {
  digest: string;
  size: number;
}

/**
 * Blobs by digest under an OCI layout's `blobs/sha256`. A blob is only ever visible under its
 * final name once its bytes are on disk and match their digest, so a crash leaves at most a
 * temp file, never a wrong blob.
 */
export class ContentStore {
  readonly #dir: string;
  readonly #tmpDir: string;

  /** `tmpDir` must be on the same filesystem as `blobsDir` (rename is the commit). */
  constructor(blobsDir: string, tmpDir: string) {
    this.#dir = blobsDir;
    this.#tmpDir = tmpDir;
  }

  get dir(): string {
    return this.#dir;
  }

  path(digest: string): string {
    return path.join(this.#dir, digestHex(digest));
  }

  /** Size of the blob, or undefined when it is not stored. */
  async size(digest: string): Promise<number | undefined> {
    try {
      return (await stat(this.path(digest))).size;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async has(digest: string): Promise<boolean> {
    return (await this.size(digest)) !== undefined;
  }

  /** Every stored blob and their total bytes. */
  async usage(): Promise<{ blobs: number; bytes: number }> {
    let bytes = 0;
    let blobs = 0;
    for (const hex of await readdir(this.#dir)) {
      const st = await stat(path.join(this.#dir, hex)).catch(() => undefined);
      if (!st?.isFile()) continue;
      bytes += st.size;
      blobs++;
    }
    return { blobs, bytes };
  }

  /** Reads a blob and checks it still matches its digest (blobs are small JSON here). */
  async read(digest: string): Promise<Buffer> {
    const data = await readFile(this.path(digest));
    if (sha256Digest(data) !== digest) throw new CorruptContentError(digest, `blob ${digest} is corrupt`);
    return data;
  }

  /** Stores bytes; skips the write when the blob exists. `expected` guards bytes from elsewhere. */
  async put(data: Uint8Array, expected?: string): Promise<BlobRef> {
    const digest = sha256Digest(data);
    if (expected !== undefined && expected !== digest) {
      throw new CorruptContentError(expected, `digest mismatch: expected ${expected}, got ${digest}`);
    }
    if (await this.has(digest)) return { digest, size: data.byteLength };
    const tmp = path.join(this.#tmpDir, tempName('blob'));
    try {
      await writeFile(tmp, data, { flag: 'wx', mode: 0o644 });
      await this.#commit(tmp, digest);
    } finally {
      await rm(tmp, { force: true });
    }
    return { digest, size: data.byteLength };
  }

  /**
   * Streams a blob in (a layer is ~40 MB: never buffered whole), hashing the bytes on their way
   * to the temp file. `transform` (e.g. gzip) runs between source and store inside the same
   * pipeline, so an error anywhere tears every stage down. Skips the commit when the blob turns
   * out to exist already.
   */
  async ingest(source: Readable | AsyncIterable<Uint8Array>, transform?: Transform, expected?: string): Promise<BlobRef> {
    const tmp = path.join(this.#tmpDir, tempName('blob'));
    try {
      const hash = createHash('sha256');
      let size = 0;
      const tap = async function* tap(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
        for await (const chunk of chunks) {
          hash.update(chunk);
          size += chunk.byteLength;
          yield chunk;
        }
      };
      const sink = createWriteStream(tmp, { flags: 'wx', mode: 0o644 });
      if (transform) await pipeline(source, transform, tap, sink);
      else await pipeline(source, tap, sink);
      const digest = `sha256:${hash.digest('hex')}`;
      if (expected !== undefined && expected !== digest) {
        throw new CorruptContentError(expected, `digest mismatch: expected ${expected}, got ${digest}`);
      }
      if (!(await this.has(digest))) await this.#commit(tmp, digest);
      return { digest, size };
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /**
   * fsync → verify → rename → fsync dir. The read-back proves the disk holds the bytes that were
   * hashed (a short write or a bad disk must not become a blob with a lying name).
   */
  async #commit(tmp: string, digest: string): Promise<void> {
    await fsyncPath(tmp);
    const onDisk = await hashFile(tmp);
    if (onDisk !== digest) throw new Error(`blob ${digest} read back as ${onDisk}`);
    await mkdir(this.#dir, { recursive: true });
    await rename(tmp, this.path(digest));
    await fsyncDir(this.#dir);
  }
}

export async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

export function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}
