import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readData } from '../../src/cli/args.ts';
import { bytes, table, UsageError } from '../../src/cli/output.ts';
import { bundleLocal } from '../../src/cli/bundle.ts';
import { Progress } from '../../src/cli/progress.ts';
import { bundleFunction } from '../../src/image/build/bundle.ts';
import { DEFAULT_ENTRIES, REQUIRE_BANNER } from '../../src/image/index.ts';

describe('CLI helpers', () => {
  it('reads --data as JSON text or @file, and calls bad JSON a usage error', async () => {
    expect(readData(undefined)).toBeNull();
    expect(readData('{"a":[1,2]}')).toEqual({ a: [1, 2] });
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hearth-cli-unit-'));
    try {
      await writeFile(path.join(dir, 'e.json'), '"text"');
      expect(readData(`@${path.join(dir, 'e.json')}`)).toBe('text');
      expect(() => readData(`@${path.join(dir, 'missing.json')}`)).toThrow(UsageError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(() => readData('{oops')).toThrow(UsageError);
  });

  it('aligns tables and formats sizes', () => {
    expect(table([['a', 1], ['long-name', undefined]], ['NAME', 'N'])).toBe('NAME       N\na          1\nlong-name\n');
    expect([bytes(12), bytes(2048), bytes(3 * 1024 * 1024)]).toEqual(['12 B', '2.0 KB', '3.0 MB']);
  });

  it('bundles a folder locally: hearth.json name and entry, the entry dropped from the uploaded config', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hearth-cli-unit-'));
    try {
      await writeFile(path.join(dir, 'hearth.json'), JSON.stringify({ name: 'named', entry: 'main.ts', memoryMb: 256 }));
      await writeFile(path.join(dir, 'main.ts'), 'import { helper } from "./helper.ts";\nexport default () => helper();');
      await writeFile(path.join(dir, 'helper.ts'), 'export const helper = (): number => 42;');
      const bundle = await bundleLocal(dir);
      expect(bundle).toMatchObject({ name: 'named', entry: 'main.ts', config: { name: 'named', memoryMb: 256 } });
      expect(bundle.config).not.toHaveProperty('entry');
      expect(bundle.code).toContain('42');
      expect(bundle.code).not.toContain('import { helper }');
      expect((await bundleLocal(dir, 'other')).config).not.toHaveProperty('name');
      await expect(bundleLocal(path.join(dir, 'nope'))).rejects.toThrow(UsageError);
      await writeFile(path.join(dir, 'main.ts'), 'import x from "not-installed";\nexport default x;');
      await expect(bundleLocal(dir)).rejects.toThrow(/Could not resolve "not-installed"/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('finds the default entries the server finds, and leaves the require shim to the server bundle', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hearth-cli-unit-'));
    try {
      expect(DEFAULT_ENTRIES).toContain('handler.ts');
      // import.meta keeps the server's bundle an ES module, which needs the shim.
      await writeFile(path.join(dir, 'handler.ts'), 'export const handler = (e: unknown): unknown => [e, import.meta.url];');
      const local = await bundleLocal(dir);
      expect(local.entry).toBe('handler.ts');
      expect(local.code).not.toContain(REQUIRE_BANNER);
      // The server re-bundles the upload: exactly one shim in what runs.
      const served = await bundleFunction({ kind: 'files', files: { 'index.mjs': local.code } }, undefined);
      expect(served.format).toBe('esm');
      expect(Buffer.from(served.code).toString().split(REQUIRE_BANNER).length - 1).toBe(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('bundles a single file, named after it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hearth-cli-unit-'));
    try {
      await writeFile(path.join(dir, 'Echo.mjs'), 'export default (e) => e;');
      expect(await bundleLocal(path.join(dir, 'Echo.mjs'))).toMatchObject({ name: 'echo', entry: 'Echo.mjs', config: {} });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('draws progress only on a terminal, and clears the line when done', () => {
    const written: string[] = [];
    const stream = { write: (t: string) => written.push(t) } as unknown as NodeJS.WriteStream;
    const tty = new Progress(true, stream);
    tty.step('bundling');
    tty.stop();
    expect(written[0]).toMatch(/^\r\x1b\[2K. bundling$/);
    expect(written.at(-1)).toBe('\r\x1b[2K');
    const piped: string[] = [];
    const quiet = new Progress(false, { write: (t: string) => piped.push(t) } as unknown as NodeJS.WriteStream);
    quiet.step('bundling');
    quiet.stop();
    expect(piped).toEqual([]);
  });
});
