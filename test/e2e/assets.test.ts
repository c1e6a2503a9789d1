/**
 * Files beside the code: an ESM function finds its text, .wasm and binary files through
 * import.meta.url whichever way it was deployed (the CLI, the server's functions directory, the
 * HTTP API with base64); an `external` package with a dynamic require runs from the layer's
 * node_modules; files past the cap are refused with 413.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hearthCli } from '../cli/run.ts';
import { startHearth, type TestHearth } from '../helpers/hearth.ts';
import { waitFor } from '../helpers/host.ts';

const FIXTURE = path.resolve('test/fixtures/esm-assets');
/** Small enough to test past, large enough for every function here. */
const CAP = 64 * 1024;
const EXPECTED = {
  message: 'Hi Ada, from a file beside the code.',
  sum: 42,
  bytes: [0, 1, 0xfe, 0xff, 0xc3, 0x28],
  url: 'file:///function/index.mjs',
};

let h: TestHearth;
let scratch: string;

async function write(root: string, files: Record<string, string>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), content);
  }
}

async function deploy(dir: string, name?: string): Promise<any> {
  const res = await hearthCli(['deploy', dir, '--json', ...(name ? ['--name', name] : [])], { env: { HEARTH_URL: h.url, HEARTH_MAX_ASSET_BYTES: String(CAP) } });
  expect(res.code, res.stderr).toBe(0);
  return JSON.parse(res.stdout);
}

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'hearth-assets-e2e-'));
  // The server deploys its functions directory itself: the same folder, read on the server side.
  const functionsDir = path.join(scratch, 'functions');
  await mkdir(functionsDir);
  execFileSync('cp', ['-r', FIXTURE, path.join(functionsDir, 'served')]);
  await writeFile(path.join(functionsDir, 'served', 'hearth.json'), '{ "name": "served" }');
  // One stem cell: a function with files beside its code must not take it (it starts from its own image).
  h = await startHearth({ functionsDir, env: { HEARTH_MAX_ASSET_BYTES: String(CAP), HEARTH_STEM_CELLS: '1' } });
});

afterAll(async () => {
  await h?.close();
  await rm(scratch, { recursive: true, force: true });
});

describe('an ESM function reads files beside it through import.meta.url', () => {
  it('deployed with the CLI: text, a .wasm module and bytes that are not UTF-8; .hearthignore kept drafts out', async () => {
    const out = await deploy(FIXTURE);
    expect(out.assetBytes).toBe(41 + 6 + 40);
    await waitFor(async () => (await h.api('GET', '/v1/pool')).body.stemCells?.some((c: { state: string }) => c.state === 'ready'), 20_000);
    const cell = (await h.api('GET', '/v1/pool')).body.stemCells.find((c: { state: string }) => c.state === 'ready').id;
    const res = await h.invoke('esm-assets', { name: 'Ada', a: 40, b: 2 });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual(EXPECTED);
    expect(res.headers.get('x-hearth-cold-start')).toBe('true');
    // Started cold from its image: the ready stem cell is still there, untouched.
    expect((await h.api('GET', '/v1/pool')).body.stemCells.map((c: { id: string }) => c.id)).toContain(cell);
    // The function layer (bundle, config, three files) stays small beside the shared base layer.
    expect(out.functionLayerBytes).toBeGreaterThan(out.assetBytes / 2);
    expect(out.functionLayerBytes).toBeLessThan(4096);
  });

  it('deployed by the server from its functions directory', async () => {
    const res = await h.invoke('served', { name: 'Ada', a: 40, b: 2 });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual(EXPECTED);
  });

  it('deployed over the HTTP API with binary files as base64, and over the HTTP trigger', async () => {
    const source = "import { readFileSync } from 'node:fs';\n" +
      "export default { fetch: () => new Response(readFileSync(new URL('./img/dot.bin', import.meta.url)), { headers: { 'content-type': 'application/octet-stream' } }) };\n";
    const res = await h.api('POST', '/v1/functions', {
      name: 'api-assets',
      files: { 'index.mjs': source, 'img/dot.bin': { base64: Buffer.from([0x89, 0x50, 0, 0xff]).toString('base64') } },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body.assetBytes).toBe(4);
    const web = await fetch(`${h.url}/fn/api-assets/`);
    expect(web.status).toBe(200);
    expect([...new Uint8Array(await web.arrayBuffer())]).toEqual([0x89, 0x50, 0, 0xff]);
    const bad = await h.api('POST', '/v1/functions', { name: 'api-assets', files: { 'index.mjs': source, 'x.bin': { base64: '!!' } } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/base64/);
  });
});

describe('external packages', () => {
  it('a package with a dynamic require is left to node and runs from the layer with its dependency', async () => {
    const dir = path.join(scratch, 'dynamic');
    await write(dir, {
      'hearth.json': JSON.stringify({ name: 'dynamic', external: ['dyn-loader'] }),
      'index.js': "const loader = require('dyn-loader');\nexports.handler = async (e) => ({ said: loader.load(e.impl), from: require.resolve('dyn-loader') });\n",
      // A require esbuild cannot follow: the module name is only known at run time.
      'node_modules/dyn-loader/package.json': JSON.stringify({ name: 'dyn-loader', main: 'index.js', dependencies: { 'dyn-dep': '1.0.0' } }),
      'node_modules/dyn-loader/index.js':
        "const path = require('path');\nconst dep = require('dyn-dep');\nexports.load = (name) => dep.shout(require(path.join(__dirname, 'impl', name)));\n",
      'node_modules/dyn-loader/impl/hello.js': "module.exports = 'hello from a dynamic require';\n",
      'node_modules/dyn-dep/package.json': JSON.stringify({ name: 'dyn-dep', main: 'index.js' }),
      'node_modules/dyn-dep/index.js': 'exports.shout = (s) => s.toUpperCase();\n',
      'node_modules/not-needed/index.js': 'throw new Error("never shipped");\n',
    });
    const out = await deploy(dir);
    expect(out.assetBytes).toBeGreaterThan(0);
    const res = await h.invoke('dynamic', { impl: 'hello' });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ said: 'HELLO FROM A DYNAMIC REQUIRE', from: '/function/node_modules/dyn-loader/index.js' });

    // The same folder without "external": esbuild bundles the loader, whose dynamic require then finds nothing.
    await writeFile(path.join(dir, 'hearth.json'), JSON.stringify({ name: 'dynamic-bundled' }));
    await deploy(dir);
    const broken = await h.invoke('dynamic-bundled', { impl: 'hello' });
    expect(broken.status).toBe(500);
    expect(broken.body.error.message).toMatch(/Cannot find module/);
  });
});

describe('the size cap', () => {
  it('files beside the code past HEARTH_MAX_ASSET_BYTES are refused with 413, by the CLI and by the server', async () => {
    const dir = path.join(scratch, 'heavy');
    await write(dir, { 'index.mjs': 'export default () => 1;\n', 'big.txt': 'x'.repeat(CAP + 1) });
    const cli = await hearthCli(['deploy', dir], { env: { HEARTH_URL: h.url, HEARTH_MAX_ASSET_BYTES: String(CAP) } });
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toMatch(/over the limit of 65536 \(HEARTH_MAX_ASSET_BYTES\); largest: big\.txt/);
    const res = await h.api('POST', '/v1/functions', { name: 'heavy', files: { 'index.mjs': 'export default () => 1;\n', 'big.txt': 'x'.repeat(CAP + 1) } });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
    expect(res.body.error.message).toMatch(/big\.txt/);
  });
});
