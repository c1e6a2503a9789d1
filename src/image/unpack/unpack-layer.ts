import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { CorruptContentError } from '../errors.ts';
import { MEDIA_TYPE } from '../oci.ts';
import { fsyncDir, tempName } from '../store/atomic.ts';
import { hashFile } from '../store/content-store.ts';
import { applyEntry, finishDirs } from './apply-entry.ts';
import type { PendingDir } from './apply-entry.ts';

const run = promisify(execFile);

export interface UnpackRequest {
  blobPath: string;
  mediaType: string;
  /** Digest of the blob as stored; checked while reading. */
  digest: string;
  /** Digest of the uncompressed tar; checked while extracting. */
  diffId: string;
  /** Final directory; appears only once complete. */
  target: string;
  /** Scratch space on the same filesystem as `target`. */
  tmpDir: string;
}

/**
 * Unpacks a layer blob into `target` in one streaming pass (read → sha256 → gunzip → sha256 →
 * extract) into a temp dir that is renamed into place only when both digests matched, so a crash
 * or a corrupt blob never leaves a half layer where overlayfs would use it.
 */
export async function unpackLayer(req: UnpackRequest): Promise<void> {
  if (await exists(req.target)) return;
  try {
    await unpackOnce(req);
  } catch (err) {
    // A damaged blob usually fails in gunzip or tar first ("incorrect data check"): say what it is.
    const actual = await hashFile(req.blobPath).catch(() => undefined);
    if (actual !== undefined && actual !== req.digest) {
      throw new CorruptContentError(req.digest, `layer blob ${req.digest} is corrupt (its bytes hash to ${actual}): refused (${(err as Error).message})`);
    }
    throw err;
  }
}

async function unpackOnce(req: UnpackRequest): Promise<void> {
  const tmp = path.join(req.tmpDir, tempName('layer'));
  await mkdir(tmp, { mode: 0o755 });
  try {
    const blobHash = createHash('sha256');
    const tarHash = createHash('sha256');
    const extract = tar.extract();
    const feeding = pipeline(
      createReadStream(req.blobPath, { highWaterMark: 1 << 20 }),
      tap(blobHash),
      decompressor(req.mediaType),
      tap(tarHash),
      // tar-stream is built on streamx, whose Writable pipeline() drives like a Node one.
      extract as unknown as NodeJS.WritableStream,
    );
    // If applying an entry fails, the loop's exit destroys `extract` and `feeding` rejects with
    // "premature close": the entry's error is the one worth reporting.
    feeding.catch(() => undefined);
    const dirs: PendingDir[] = [];
    for await (const entry of extract) {
      await applyEntry(tmp, entry.header, entry, dirs);
      entry.resume(); // drain bodies of entries that do not read them
    }
    await feeding;
    await finishDirs(dirs);
    await chmod(tmp, 0o755);

    const digest = `sha256:${blobHash.digest('hex')}`;
    const diffId = `sha256:${tarHash.digest('hex')}`;
    if (digest !== req.digest) throw new CorruptContentError(req.digest, `layer blob ${req.digest} is corrupt (read ${digest})`);
    if (diffId !== req.diffId) throw new CorruptContentError(req.digest, `layer ${req.digest}: diffId is ${diffId}, the image says ${req.diffId}`);

    // One syncfs for the whole tree (coreutils `sync -f`) instead of an fsync per file.
    await run('sync', ['-f', tmp]);
    await mkdir(path.dirname(req.target), { recursive: true });
    try {
      await rename(tmp, req.target);
    } catch (err) {
      // Another process unpacked the same layer first: theirs is as good as ours.
      const code = (err as NodeJS.ErrnoException).code;
      if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || !(await exists(req.target))) throw err;
    }
    await fsyncDir(path.dirname(req.target));
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

function decompressor(mediaType: string): Transform {
  switch (mediaType) {
    case MEDIA_TYPE.layerGzip:
    case MEDIA_TYPE.dockerLayerGzip:
      return createGunzip({ chunkSize: 1 << 18 });
    case MEDIA_TYPE.layerTar:
      return new PassThrough();
    default:
      throw new Error(`unsupported layer media type ${mediaType}`);
  }
}

function tap(hash: ReturnType<typeof createHash>): (source: AsyncIterable<Uint8Array>) => AsyncGenerator<Uint8Array> {
  return async function* hashing(source) {
    for await (const chunk of source) {
      hash.update(chunk);
      yield chunk;
    }
  };
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}
