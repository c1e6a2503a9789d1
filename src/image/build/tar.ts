import { createReadStream } from 'node:fs';

/**
 * A reproducible tar writer (ustar). We write the headers ourselves rather than through
 * tar-stream's packer: every byte of a layer feeds its digest, so every header field is fixed
 * here (uid/gid 0, empty uname/gname, mtime 0, normalized modes, no pax records), and a pull-based
 * generator gives backpressure and error propagation for free when streaming the 100 MB node
 * binary into gzip.
 */

/** Bytes in memory, or a host file streamed in at write time (its size is part of the header). */
export type TarContent = Uint8Array | { hostPath: string; size: number };

export type TarEntry =
  | { type: 'dir'; path: string; mode?: number }
  | { type: 'file'; path: string; mode?: number; content: TarContent }
  | { type: 'symlink'; path: string; target: string }
  | { type: 'hardlink'; path: string; target: string };

const DIR_MODE = 0o755;
const FILE_MODE = 0o644;
const BLOCK = 512;

/**
 * Validates paths (image paths, leading "/" optional), adds missing parent directories (0755)
 * and sorts by path bytes, which puts every parent before its children. Pure; the result is the
 * archive's exact entry order.
 */
export function normalizeTarEntries(entries: readonly TarEntry[]): TarEntry[] {
  const byPath = new Map<string, TarEntry>();
  for (const entry of entries) {
    const p = imagePath(entry.path);
    if (byPath.has(p)) throw new Error(`duplicate tar entry ${p}`);
    const normalized: TarEntry =
      entry.type === 'hardlink' ? { ...entry, path: p, target: imagePath(entry.target) } : { ...entry, path: p };
    byPath.set(p, normalized);
  }
  for (const p of [...byPath.keys()]) {
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      const existing = byPath.get(parent);
      if (!existing) byPath.set(parent, { type: 'dir', path: parent });
      else if (existing.type !== 'dir') throw new Error(`${parent} is not a directory but has children`);
    }
  }
  const sorted = [...byPath.values()].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  const seen = new Set<string>();
  for (const entry of sorted) {
    // An extractor can only link to what it has already written.
    if (entry.type === 'hardlink' && !seen.has(entry.target)) {
      throw new Error(`hardlink ${entry.path} points to ${entry.target}, which is not earlier in the archive`);
    }
    seen.add(entry.path);
  }
  return sorted;
}

/** "/usr/bin/node" or "usr/bin/node" → "usr/bin/node"; refuses "", ".", ".." and empty segments. */
export function imagePath(p: string): string {
  const rel = p.startsWith('/') ? p.slice(1) : p;
  const trimmed = rel.endsWith('/') ? rel.slice(0, -1) : rel;
  const parts = trimmed.split('/');
  if (trimmed === '' || parts.some((s) => s === '' || s === '.' || s === '..') || trimmed.includes('\0')) {
    throw new Error(`bad path in layer: ${JSON.stringify(p)}`);
  }
  return trimmed;
}

/** The archive as a stream of chunks; entries are normalized first. */
export async function* tarStream(entries: readonly TarEntry[]): AsyncGenerator<Uint8Array> {
  for (const entry of normalizeTarEntries(entries)) {
    switch (entry.type) {
      case 'dir':
        yield encodeHeader({ name: `${entry.path}/`, mode: entry.mode ?? DIR_MODE, size: 0, typeflag: '5' });
        break;
      case 'symlink':
        yield encodeHeader({ name: entry.path, mode: 0o777, size: 0, typeflag: '2', linkname: entry.target });
        break;
      case 'hardlink':
        yield encodeHeader({ name: entry.path, mode: FILE_MODE, size: 0, typeflag: '1', linkname: entry.target });
        break;
      case 'file': {
        const size = entry.content instanceof Uint8Array ? entry.content.byteLength : entry.content.size;
        yield encodeHeader({ name: entry.path, mode: entry.mode ?? FILE_MODE, size, typeflag: '0' });
        if (entry.content instanceof Uint8Array) {
          yield entry.content;
        } else {
          yield* hostFile(entry.content.hostPath, size);
        }
        const pad = (BLOCK - (size % BLOCK)) % BLOCK;
        if (pad > 0) yield new Uint8Array(pad);
        break;
      }
    }
  }
  yield new Uint8Array(BLOCK * 2); // end-of-archive marker
}

/** The whole archive in memory (tests, small layers). */
export async function tarBytes(entries: readonly TarEntry[]): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of tarStream(entries)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function* hostFile(file: string, size: number): AsyncGenerator<Uint8Array> {
  let read = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    const buf = chunk as Buffer;
    read += buf.byteLength;
    if (read > size) break;
    yield buf;
  }
  // The header already promised `size` bytes: a file that changed under us must fail the build.
  if (read !== size) throw new Error(`${file} changed size while being archived (${size} → ${read})`);
}

interface Header {
  name: string;
  mode: number;
  size: number;
  typeflag: '0' | '1' | '2' | '5';
  linkname?: string;
}

/** One ustar header block; owner 0:0, no user/group names, mtime 0. */
export function encodeHeader(h: Header): Uint8Array {
  const block = Buffer.alloc(BLOCK);
  const [prefix, name] = splitName(h.name);
  writeString(block, name, 0, 100);
  writeOctal(block, h.mode & 0o7777, 100, 8);
  writeOctal(block, 0, 108, 8); // uid
  writeOctal(block, 0, 116, 8); // gid
  if (h.size > 0o77777777777) throw new Error(`${h.name} is too large for a ustar entry`);
  writeOctal(block, h.size, 124, 12);
  writeOctal(block, 0, 136, 12); // mtime
  block.fill(0x20, 148, 156); // checksum field counts as spaces while summing
  block.write(h.typeflag, 156, 'latin1');
  if (h.linkname !== undefined) {
    if (Buffer.byteLength(h.linkname) > 100) throw new Error(`link target of ${h.name} is too long for ustar`);
    writeString(block, h.linkname, 157, 100);
  }
  block.write('ustar\u000000', 257, 'latin1');
  writeOctal(block, 0, 329, 8); // devmajor
  writeOctal(block, 0, 337, 8); // devminor
  writeString(block, prefix, 345, 155);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'latin1');
  return block;
}

/** ustar stores long names as prefix (≤155 bytes) + "/" + name (≤100 bytes). */
function splitName(full: string): [string, string] {
  if (Buffer.byteLength(full) <= 100) return ['', full];
  const body = full.endsWith('/') ? full.slice(0, -1) : full;
  const trailing = full.endsWith('/') ? '/' : '';
  for (let i = body.indexOf('/'); i !== -1; i = body.indexOf('/', i + 1)) {
    const prefix = body.slice(0, i);
    const name = body.slice(i + 1) + trailing;
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100) return [prefix, name];
  }
  throw new Error(`path too long for a ustar entry: ${full}`);
}

function writeString(block: Buffer, value: string, offset: number, length: number): void {
  if (Buffer.byteLength(value) > length) throw new Error(`tar field too long: ${value}`);
  block.write(value, offset, length, 'utf8');
}

/** Octal digits, zero-padded, NUL-terminated (length - 1 digits). */
function writeOctal(block: Buffer, value: number, offset: number, length: number): void {
  block.write(`${value.toString(8).padStart(length - 1, '0')}\u0000`, offset, length, 'latin1');
}
