import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleFunction } from '../../src/image/build/bundle.ts';
import type { Bundle } from '../../src/image/build/bundle.ts';
import { BuildError } from '../../src/image/index.ts';
import type { FunctionSource } from '../../src/image/index.ts';
import { moduleNamespace } from '../../src/runtime/agent/find-handler.ts';
import { tempDir } from './helpers.ts';

const run = promisify(execFile);
let tmp: Awaited<ReturnType<typeof tempDir>>;
let n = 0;

beforeAll(async () => {
  tmp = await tempDir('bundle');
});
afterAll(async () => tmp.remove());

/** Runs a bundle the way the agent will (required or imported by its format, default export called with an event). */
async function invoke(bundle: Bundle, event: unknown): Promise<unknown> {
  const file = path.join(tmp.dir, `run-${n++}.${bundle.format === 'cjs' ? 'cjs' : 'mjs'}`);
  await writeFile(file, bundle.code);
  const load = bundle.format === 'cjs'
    ? `const e = (await import('node:module')).createRequire(process.argv[1])(process.argv[1]); const m = ${moduleNamespace.toString()}(e);`
    : 'const m = await import(process.argv[1]);';
  const script = `${load} const f = m.default ?? m.handler; console.log(JSON.stringify(await f(JSON.parse(process.argv[2]))));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script, file, JSON.stringify(event)]);
  return JSON.parse(stdout);
}

const files = (f: Record<string, string>, entry?: string): FunctionSource => ({ kind: 'files', files: f, entry });

async function buildError(source: FunctionSource, configEntry?: string): Promise<BuildError> {
  const err = await bundleFunction(source, configEntry).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(BuildError);
  return err as BuildError;
}

describe('bundling deployed files', () => {
  it('compiles TypeScript with types away', async () => {
    const b = await bundleFunction(
      files({
        'index.ts': [
          'import { twice } from "./lib/math.ts";',
          'interface Event { n: number }',
          'type Out<T> = { result: T };',
          'export default async function (e: Event): Promise<Out<number>> {',
          '  return { result: twice(e.n) } satisfies Out<number>;',
          '}',
        ].join('\n'),
        'lib/math.ts': 'export const twice = (n: number): number => n * 2;\n',
      }),
      undefined,
    );
    expect(b.entry).toBe('index.ts');
    expect(await invoke(b, { n: 21 })).toEqual({ result: 42 });
  });

  it('bundles plain JavaScript and the Lambda-style named export', async () => {
    const b = await bundleFunction(files({ 'handler.js': 'export const handler = async (e) => ({ got: e });\n' }), undefined);
    expect(b.entry).toBe('handler.js');
    expect(await invoke(b, 7)).toEqual({ got: 7 });
  });

  it('bundles an npm dependency shipped in node_modules, CommonJS included', async () => {
    const b = await bundleFunction(
      files({
        'index.ts': 'import base from "tiny-base"; export default () => ({ base: base("/a/b/c.txt") });',
        'node_modules/tiny-base/package.json': '{"name":"tiny-base","main":"lib.js"}',
        'node_modules/tiny-base/lib.js': 'const path = require("node:path"); module.exports = (p) => path.basename(p);',
      }),
      undefined,
    );
    expect(new TextDecoder().decode(b.code)).not.toMatch(/from ["']tiny-base["']/);
    expect(await invoke(b, null)).toEqual({ base: 'c.txt' });
  });

  it('leaves node built-ins external', async () => {
    const b = await bundleFunction(
      files({ 'index.mjs': 'import { createHash } from "node:crypto"; export default (s) => createHash("sha1").update(s).digest("hex");' }),
      undefined,
    );
    expect(await invoke(b, 'x')).toBe('11f6ad8ec52a2984abaafd7c3b516503785c2072');
  });

  it('gives the same bytes for the same files (fresh temp dirs leave no trace)', async () => {
    const src = files({ 'index.ts': 'import { v } from "./v.ts"; export default () => v;', 'v.ts': 'export const v = 1;' });
    const [a, b] = await Promise.all([bundleFunction(src, undefined), bundleFunction(src, undefined)]);
    expect(Buffer.from(a.code).equals(Buffer.from(b.code))).toBe(true);
    expect(new TextDecoder().decode(a.code)).not.toContain('hearth-build-');
  });

  it('is CommonJS and strict code unless the code needs an ES module: top-level await, import.meta or import() of a built-in', async () => {
    const cjs = await bundleFunction(files({ 'index.js': 'export default () => { try { undeclared = 1; return "sloppy"; } catch { return "strict"; } };' }), undefined);
    expect(cjs.format).toBe('cjs');
    expect(new TextDecoder().decode(cjs.code)).toMatch(/^'use strict';/);
    // Strict as an ES module is: assigning an undeclared name throws.
    expect(await invoke(cjs, null)).toBe('strict');
    const commonjs = await bundleFunction(files({ 'index.js': 'module.exports = async (e) => ({ cjs: e });' }), undefined);
    expect(commonjs.format).toBe('cjs');
    expect(await invoke(commonjs, 1)).toEqual({ cjs: 1 });

    // A bundled file's import() becomes a require call: still CommonJS.
    const bundledImport = await bundleFunction(files({ 'index.js': 'export default async () => (await import("./two.js")).default;', 'two.js': 'export default 2;' }), undefined);
    expect(bundledImport.format).toBe('cjs');
    expect(await invoke(bundledImport, null)).toBe(2);

    for (const code of [
      'const v = await Promise.resolve(2); export default () => v;',
      'export default () => import.meta.url.startsWith("file:") && 2;',
      'export default async () => typeof (await import("node:os")).cpus === "function" && 2;',
    ]) {
      const esm = await bundleFunction(files({ 'index.js': code }), undefined);
      expect(esm.format).toBe('esm');
      // The createRequire banner lets bundled CommonJS call require() there.
      expect(new TextDecoder().decode(esm.code)).toMatch(/^import \{ createRequire as __hearthCreateRequire \} from 'module'; const require = __hearthCreateRequire\(import\.meta\.url\);/);
      expect(await invoke(esm, null)).toBe(2);
    }
  });
});

describe('choosing the entry', () => {
  const two = { 'index.ts': 'export default () => "index";', 'other.ts': 'export default () => "other";', 'handler.js': 'export default () => "handler";' };

  it('prefers index.ts among the defaults', async () => {
    expect(await invoke(await bundleFunction(files(two), undefined), null)).toBe('index');
  });
  it('uses the source entry over the config entry', async () => {
    expect(await invoke(await bundleFunction(files(two, 'other.ts'), 'handler.js'), null)).toBe('other');
    expect(await invoke(await bundleFunction(files(two), 'handler.js'), null)).toBe('handler');
  });
  it('fails on a missing or escaping entry, or when no default exists', async () => {
    expect((await buildError(files(two, 'nope.ts'))).message).toMatch(/entry "nope.ts" not found/);
    expect((await buildError(files(two, '../index.ts'))).message).toMatch(/must not contain/);
    expect((await buildError(files({ 'main.ts': '' }))).message).toMatch(/no entry file/);
  });
});

describe('bad code is a BuildError', () => {
  it('reports a syntax error with file:line:column', async () => {
    const err = await buildError(files({ 'index.ts': 'export default function (e: number) {\n  return e +;\n}\n' }));
    expect(err.message).toMatch(/^index\.ts:2:12: Unexpected ";"/);
    expect(err.message).toContain('return e +;');
  });

  it('reports an import that is not part of the deploy', async () => {
    const err = await buildError(files({ 'index.ts': 'import leftPad from "left-pad";\nexport default () => leftPad("x", 3);' }));
    expect(err.message).toMatch(/index\.ts:1:\d+: Could not resolve "left-pad"/);
  });

  it('does not let an import climb out of the deploy', async () => {
    const err = await buildError(files({ 'index.ts': 'import x from "../../../../../../etc/hostname";\nexport default () => x;' }));
    expect(err.message).toMatch(/Could not resolve/);
  });

  it('does not resolve bare imports from node_modules of the build host', async () => {
    // Put the build's temp dir under a folder whose node_modules has the package: esbuild would
    // find it by walking up; the deploy must still fail, as it did not ship the package.
    const outer = path.join(tmp.dir, 'outer');
    await mkdir(path.join(outer, 'node_modules', 'leaky'), { recursive: true });
    await writeFile(path.join(outer, 'node_modules', 'leaky', 'index.js'), 'module.exports = 1;');
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = outer;
    try {
      const err = await buildError(files({ 'index.ts': 'import x from "leaky";\nexport default () => x;' }));
      expect(err.message).toMatch(/index\.ts:1:\d+: Could not resolve "leaky"/);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
  });

  it('refuses bad file paths before writing anything', async () => {
    expect((await buildError(files({ '/etc/cron.d/x': '' }))).message).toMatch(/must be relative/);
    expect((await buildError(files({ 'a/../../x.js': '' }))).message).toMatch(/must not contain/);
  });
});

describe('bundling a folder in place', () => {
  it('resolves dependencies from the folder and its parents (a workspace)', async () => {
    const ws = path.join(tmp.dir, 'ws');
    const fn = path.join(ws, 'functions', 'greet');
    await mkdir(path.join(ws, 'node_modules', 'greeting'), { recursive: true });
    await mkdir(fn, { recursive: true });
    await writeFile(path.join(ws, 'node_modules', 'greeting', 'package.json'), '{"name":"greeting","type":"module","exports":"./index.js"}');
    await writeFile(path.join(ws, 'node_modules', 'greeting', 'index.js'), 'export const greet = (n) => `hello ${n}`;');
    await writeFile(path.join(fn, 'main.ts'), 'import { greet } from "greeting";\nexport default (e: { name: string }) => greet(e.name);');
    const b = await bundleFunction({ kind: 'dir', dir: fn }, 'main.ts');
    expect(b.entry).toBe('main.ts');
    expect(await invoke(b, { name: 'ada' })).toBe('hello ada');
  });

  it('reports a missing entry in the folder as a BuildError', async () => {
    const err = await buildError({ kind: 'dir', dir: tmp.dir, entry: 'missing.ts' });
    expect(err.message).toMatch(/not found/);
  });
});
