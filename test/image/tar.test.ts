import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeHeader, imagePath, normalizeTarEntries, tarBytes } from '../../src/image/build/tar.ts';
import type { TarEntry } from '../../src/image/build/tar.ts';
import { listTar, tempDir } from './helpers.ts';

const sample: TarEntry[] = [
  { type: 'file', path: '/usr/bin/tool', mode: 0o755, content: Buffer.from('#!/bin/sh\n') },
  { type: 'dir', path: '/tmp', mode: 0o1777 },
  { type: 'file', path: '/etc/hosts', content: Buffer.from('127.0.0.1 localhost\n') },
  { type: 'symlink', path: '/bin', target: 'usr/bin' },
  { type: 'hardlink', path: '/usr/bin/tool2', target: '/usr/bin/tool' },
  { type: 'file', path: '/etc-x', content: Buffer.from('') },
];

describe('normalizeTarEntries', () => {
  it('adds missing parents and sorts by path bytes, so every parent precedes its children', () => {
    const order = normalizeTarEntries(sample).map((e) => `${e.type}:${e.path}`);
    expect(order).toEqual([
      'symlink:bin',
      'dir:etc',
      'file:etc-x', // '-' (0x2d) sorts before '/' (0x2f): plain byte order, as GNU tar --sort=name
      'file:etc/hosts',
      'dir:tmp',
      'dir:usr',
      'dir:usr/bin',
      'file:usr/bin/tool',
      'hardlink:usr/bin/tool2',
    ]);
  });

  it('is independent of the input order', () => {
    expect(normalizeTarEntries([...sample].reverse())).toEqual(normalizeTarEntries(sample));
  });

  it('keeps an explicit directory mode over the implicit default', () => {
    const tmp = normalizeTarEntries([{ type: 'dir', path: 'tmp', mode: 0o1777 }, { type: 'file', path: 'tmp/x', content: Buffer.alloc(0) }]);
    expect(tmp[0]).toEqual({ type: 'dir', path: 'tmp', mode: 0o1777 });
  });

  it('refuses duplicates, escapes and children of files', () => {
    const f = (p: string): TarEntry => ({ type: 'file', path: p, content: Buffer.alloc(0) });
    expect(() => normalizeTarEntries([f('a'), f('/a')])).toThrow(/duplicate/);
    expect(() => normalizeTarEntries([f('../a')])).toThrow(/bad path/);
    expect(() => normalizeTarEntries([f('a/./b')])).toThrow(/bad path/);
    expect(() => normalizeTarEntries([f('a'), f('a/b')])).toThrow(/not a directory/);
    expect(() => normalizeTarEntries([{ type: 'hardlink', path: 'a', target: 'z' }, f('z')])).toThrow(/not earlier/);
  });
});

describe('imagePath', () => {
  it('accepts image paths with or without the leading slash', () => {
    expect(imagePath('/usr/bin/node')).toBe('usr/bin/node');
    expect(imagePath('usr/bin/')).toBe('usr/bin');
  });
  it.each(['', '/', '.', 'a//b', 'a/../b', '..', 'a\0b'])('refuses %j', (p) => {
    expect(() => imagePath(p)).toThrow();
  });
});

describe('tar writer', () => {
  it('writes the same bytes every time', async () => {
    const a = await tarBytes(sample);
    const b = await tarBytes([...sample].reverse());
    expect(a.equals(b)).toBe(true);
  });

  it('fixes owner, names and times, and normalizes modes', async () => {
    const entries = await listTar(await tarBytes(sample));
    for (const { header } of entries) {
      expect(header.uid).toBe(0);
      expect(header.gid).toBe(0);
      expect(header.uname).toBe('');
      expect(header.gname).toBe('');
      expect(header.mtime?.getTime()).toBe(0);
      expect(header.pax ?? null).toBeNull();
    }
    const byName = new Map(entries.map((e) => [e.header.name, e]));
    expect(byName.get('tmp/')?.header.mode).toBe(0o1777);
    expect(byName.get('usr/')?.header.mode).toBe(0o755);
    expect(byName.get('etc/hosts')?.header.mode).toBe(0o644);
    expect(byName.get('usr/bin/tool')?.header.mode).toBe(0o755);
    expect(byName.get('usr/bin/tool')?.body.toString()).toBe('#!/bin/sh\n');
    expect(byName.get('bin')?.header).toMatchObject({ type: 'symlink', linkname: 'usr/bin' });
    expect(byName.get('usr/bin/tool2')?.header).toMatchObject({ type: 'link', linkname: 'usr/bin/tool' });
  });

  it('splits long names into the ustar prefix field', async () => {
    const long = `${'d'.repeat(80)}/${'e'.repeat(60)}/${'f'.repeat(90)}.txt`;
    const entries = await listTar(await tarBytes([{ type: 'file', path: long, content: Buffer.from('x') }]));
    expect(entries.map((e) => e.header.name)).toContain(long);
    expect(() => encodeHeader({ name: 'x'.repeat(101), mode: 0o644, size: 0, typeflag: '0' })).toThrow(/too long/);
  });

  describe('against GNU tar', () => {
    let tmp: Awaited<ReturnType<typeof tempDir>>;
    beforeAll(async () => {
      tmp = await tempDir('tar');
    });
    afterAll(async () => tmp.remove());

    it('is read by GNU tar without complaint', async () => {
      const file = path.join(tmp.dir, 'layer.tar');
      await writeFile(file, await tarBytes(sample));
      const listing = execFileSync('tar', ['-tvf', file], { encoding: 'utf8' });
      expect(listing).toMatch(/drwxrwxrwt 0\/0 +0 1970-01-01 00:00 tmp\//);
      expect(listing).toMatch(/-rwxr-xr-x 0\/0 +10 1970-01-01 00:00 usr\/bin\/tool\n/);
      expect(listing).toMatch(/usr\/bin\/tool2 link to usr\/bin\/tool/);
    });

    it('streams host files in, and fails if one changes size', async () => {
      const host = path.join(tmp.dir, 'host.bin');
      await writeFile(host, Buffer.alloc(70_000, 7));
      const entries = await listTar(await tarBytes([{ type: 'file', path: 'h', content: { hostPath: host, size: 70_000 } }]));
      expect(entries[0].body.equals(Buffer.alloc(70_000, 7))).toBe(true);
      await expect(tarBytes([{ type: 'file', path: 'h', content: { hostPath: host, size: 69_999 } }])).rejects.toThrow(/changed size/);
    });
  });
});
