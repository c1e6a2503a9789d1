import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import tar from 'tar-stream';
import type { Header } from 'tar-stream';

export function sha256(data: Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** A temp dir and its removal; callers keep the pair and remove in afterAll. */
export async function tempDir(prefix: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `hearth-${prefix}-`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export type RawEntry = Partial<Header> & { name: string; content?: string };

/**
 * A tar written by tar-stream, entry by entry, exactly as given: a second implementation to
 * check ours against, and the way to hand-craft layers our own writer refuses to produce
 * (whiteouts in odd places, escaping paths, hostile symlinks).
 */
export async function rawTar(entries: readonly RawEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  for (const { content, ...header } of entries) {
    await new Promise<void>((resolve, reject) => {
      pack.entry({ mtime: new Date(0), ...header }, content ?? '', (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  await collected;
  return Buffer.concat(chunks);
}

export interface ListedEntry {
  header: Header;
  body: Buffer;
}

/** Every entry of a tar (gunzipped first when it starts with the gzip magic). */
export async function listTar(data: Uint8Array): Promise<ListedEntry[]> {
  const bytes = data[0] === 0x1f && data[1] === 0x8b ? gunzipSync(data) : Buffer.from(data);
  const extract = tar.extract();
  const out: ListedEntry[] = [];
  const feeding = (async () => {
    extract.end(bytes);
  })();
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    out.push({ header: entry.header, body: Buffer.concat(chunks) });
  }
  await feeding;
  return out;
}
