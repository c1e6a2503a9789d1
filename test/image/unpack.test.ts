import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CorruptContentError } from '../../src/image/errors.ts';
import { MEDIA_TYPE } from '../../src/image/oci.ts';
import { unpackLayer } from '../../src/image/unpack/unpack-layer.ts';
import { rawTar, sha256, tempDir } from './helpers.ts';
import type { RawEntry } from './helpers.ts';

let tmp: Awaited<ReturnType<typeof tempDir>>;
let scratch: string;
let n = 0;
const mounts: string[] = [];

beforeAll(async () => {
  tmp = await tempDir('unpack');
  scratch = path.join(tmp.dir, 'scratch');
  await mkdir(scratch);
});

afterAll(async () => {
  for (const m of mounts) execFileSync('umount', [m]);
  await tmp.remove();
});

/** Writes a hand-made layer blob and unpacks it; returns the layer dir. */
async function unpack(entries: readonly RawEntry[], opts: { gzip?: boolean; diffId?: string; digest?: string } = {}): Promise<string> {
  const tar = await rawTar(entries);
  const gzip = opts.gzip ?? true;
  const blob = gzip ? gzipSync(tar) : tar;
  const blobPath = path.join(tmp.dir, `blob-${n}`);
  await writeFile(blobPath, blob);
  const target = path.join(tmp.dir, `layer-${n++}`);
  await unpackLayer({
    blobPath,
    mediaType: gzip ? MEDIA_TYPE.layerGzip : MEDIA_TYPE.layerTar,
    digest: opts.digest ?? sha256(blob),
    diffId: opts.diffId ?? sha256(tar),
    target,
    tmpDir: scratch,
  });
  return target;
}

function getOpaque(dir: string, namespace: 'trusted' | 'user' = 'trusted'): string {
  return execFileSync('/usr/bin/python3', ['-c', 'import os, sys; print(os.getxattr(sys.argv[1], sys.argv[2] + ".overlay.opaque").decode())', dir, namespace], {
    encoding: 'utf8',
  }).trim();
}

describe('unpacking a layer', () => {
  it('preserves modes, owners, symlinks and hardlinks', async () => {
    const dir = await unpack([
      { name: 'bin/', type: 'directory', mode: 0o755 },
      { name: 'bin/tool', mode: 0o4755, content: 'x', uid: 1000, gid: 1000 },
      { name: 'bin/alias', type: 'symlink', linkname: 'tool' },
      { name: 'bin/abs', type: 'symlink', linkname: '/bin/tool' },
      { name: 'bin/same', type: 'link', linkname: 'bin/tool' },
      { name: 'secret/', type: 'directory', mode: 0o700 },
      { name: 'tmp/', type: 'directory', mode: 0o1777 },
      { name: 'implicit/parent/file.txt', content: 'hi', mode: 0o600 }, // parents not in the tar
    ]);
    const tool = statSync(path.join(dir, 'bin/tool'));
    expect(tool.mode & 0o7777).toBe(0o4755);
    expect([tool.uid, tool.gid]).toEqual([1000, 1000]);
    expect(readlinkSync(path.join(dir, 'bin/alias'))).toBe('tool');
    expect(readlinkSync(path.join(dir, 'bin/abs'))).toBe('/bin/tool');
    expect(statSync(path.join(dir, 'bin/same')).ino).toBe(tool.ino);
    expect(statSync(path.join(dir, 'secret')).mode & 0o7777).toBe(0o700);
    expect(statSync(path.join(dir, 'tmp')).mode & 0o7777).toBe(0o1777);
    expect(readFileSync(path.join(dir, 'implicit/parent/file.txt'), 'utf8')).toBe('hi');
    expect(statSync(dir).mode & 0o7777).toBe(0o755);
  });

  it('turns whiteouts into overlayfs form: char device 0:0 and the opaque xattr', async () => {
    const dir = await unpack([
      { name: '.wh.foo', content: '' },
      { name: 'd/', type: 'directory' },
      { name: 'd/.wh..wh..opq', content: '' },
      { name: 'd/c', content: 'new' },
      { name: '.wh..wh.plnk/', type: 'directory' }, // aufs bookkeeping, ignored
    ]);
    const wh = lstatSync(path.join(dir, 'foo'));
    expect(wh.isCharacterDevice()).toBe(true);
    expect(wh.rdev).toBe(0);
    expect(existsSync(path.join(dir, '.wh.foo'))).toBe(false);
    expect(getOpaque(path.join(dir, 'd'))).toBe('y');
    // For the containers' own mount (in their user namespace, with userxattr).
    expect(getOpaque(path.join(dir, 'd'), 'user')).toBe('y');
    expect(readdirSync(path.join(dir, 'd'))).toEqual(['c']);
    expect(readdirSync(dir).sort()).toEqual(['d', 'foo']);
  });

  it('hides lower files under an overlay mount with two lowerdirs', async () => {
    const lower = await unpack([
      { name: 'foo', content: 'hidden' },
      { name: 'keep', content: 'kept' },
      { name: 'd/', type: 'directory' },
      { name: 'd/a', content: 'a' },
      { name: 'd/b', content: 'b' },
    ]);
    const upper = await unpack([
      { name: '.wh.foo', content: '' },
      { name: 'd/', type: 'directory' },
      { name: 'd/.wh..wh..opq', content: '' },
      { name: 'd/c', content: 'c' },
    ]);
    const target = path.join(tmp.dir, 'merged');
    await mkdir(target);
    // Read-only overlay without an upperdir: needs at least two lowerdirs, top-most first.
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${upper}:${lower}`, target]);
    mounts.push(target);
    expect((await readdir(target)).sort()).toEqual(['d', 'keep']);
    expect(existsSync(path.join(target, 'foo'))).toBe(false);
    expect(await readdir(path.join(target, 'd'))).toEqual(['c']);
    expect(readFileSync(path.join(target, 'keep'), 'utf8')).toBe('kept');
  });

  it('later entries replace earlier ones without following them', async () => {
    const outside = path.join(tmp.dir, 'outside-replace.txt');
    await writeFile(outside, 'untouched');
    const dir = await unpack([
      { name: 'f', type: 'symlink', linkname: outside },
      { name: 'f', content: 'replaced' },
    ]);
    expect(lstatSync(path.join(dir, 'f')).isFile()).toBe(true);
    expect(readFileSync(outside, 'utf8')).toBe('untouched');
  });

  it('accepts uncompressed layers', async () => {
    const dir = await unpack([{ name: 'a', content: 'plain' }], { gzip: false });
    expect(readFileSync(path.join(dir, 'a'), 'utf8')).toBe('plain');
  });
});

describe('hostile layers', () => {
  async function refused(entries: readonly RawEntry[], message: RegExp): Promise<void> {
    const before = readdirSync(tmp.dir).filter((d) => d.startsWith('layer-')).length;
    await expect(unpack(entries)).rejects.toThrow(message);
    // Nothing half-done is left where a layer would be looked for, nor in scratch.
    expect(readdirSync(tmp.dir).filter((d) => d.startsWith('layer-')).length).toBe(before);
    expect(readdirSync(scratch)).toEqual([]);
  }

  it('refuses absolute paths', async () => {
    await refused([{ name: '/etc/evil', content: 'x' }], /absolute path/);
  });

  it('refuses ".." that escapes the layer', async () => {
    await refused([{ name: 'a/../../evil', content: 'x' }], /escapes the layer/);
  });

  it('keeps writes through a symlinked parent inside the layer', async () => {
    const outside = path.join(tmp.dir, 'outside-dir');
    await mkdir(outside);
    const dir = await unpack([
      { name: 'abs', type: 'symlink', linkname: outside },
      { name: 'abs/pwned', content: 'x' },
      { name: 'rel', type: 'symlink', linkname: '../../../../../../..' },
      { name: `rel${outside}/pwned2`, content: 'x' },
    ]);
    expect(readdirSync(outside)).toEqual([]);
    // The container would see /abs → <outside> inside its own root: that is where the files went.
    expect(existsSync(path.join(dir, outside, 'pwned'))).toBe(true);
    expect(existsSync(path.join(dir, outside, 'pwned2'))).toBe(true);
  });

  it('refuses hardlinks to files outside the layer', async () => {
    await refused([{ name: 'passwd', type: 'link', linkname: '../../../../etc/passwd' }], /escapes the layer/);
    await refused([{ name: 'passwd', type: 'link', linkname: '/etc/passwd' }], /absolute path/);
  });

  it('resolves hardlinks through symlinked parents inside the layer only', async () => {
    const dir = await unpack([
      { name: 'etc', type: 'symlink', linkname: '/' },
      { name: 'x', type: 'link', linkname: 'etc/hostname' },
    ]).catch((e: Error) => e);
    // /etc/hostname exists on the host but not in the layer: the link must fail, not reach it.
    expect(dir).toBeInstanceOf(Error);
    expect(readdirSync(scratch)).toEqual([]);
  });

  it('refuses a blob whose diffId does not match, leaving nothing behind', async () => {
    const refused = unpack([{ name: 'a', content: 'x' }], { diffId: `sha256:${'0'.repeat(64)}` });
    await expect(refused).rejects.toThrow(/diffId/);
    await expect(refused).rejects.toBeInstanceOf(CorruptContentError);
    expect(readdirSync(scratch)).toEqual([]);
  });

  it('reports a blob that does not hash to its digest as corrupt content', async () => {
    const claimed = `sha256:${'1'.repeat(64)}`;
    const refused = unpack([{ name: 'a', content: 'x' }], { digest: claimed });
    await expect(refused).rejects.toBeInstanceOf(CorruptContentError);
    await expect(refused).rejects.toMatchObject({ digest: claimed });
    expect(readdirSync(scratch)).toEqual([]);
  });

  it('does not call a well-hashed but unsafe layer corrupt: fetching it again would not help', async () => {
    const refused = unpack([{ name: '/etc/passwd', content: 'x' }]);
    await expect(refused).rejects.toThrow(/absolute/);
    await expect(refused).rejects.not.toBeInstanceOf(CorruptContentError);
  });
});
