import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFunctionConfig } from '../../src/config/index.ts';
import { BuildError, ImageStore } from '../../src/image/index.ts';
import type { FunctionImage, FunctionSource, LayerInfo } from '../../src/image/index.ts';
import { functionImageConfig } from '../../src/image/oci.ts';
import { listTar, sha256, tempDir } from './helpers.ts';

/**
 * One store (and one ~4 s base layer build) for the whole file; later stores on the same root
 * show the cache.
 */
let tmp: Awaited<ReturnType<typeof tempDir>>;
let root: string;
let agentEntry: string;
let store: ImageStore;
let base: LayerInfo;
let firstBaseMs: number;
const mounts: string[] = [];

const config = parseFunctionConfig({ memoryMb: 256, env: { B: '2', A: '1' } });
const hello: FunctionSource = { kind: 'files', files: { 'index.ts': 'export default async (e: { n: number }) => ({ n: e.n + 1 });\n' } };

beforeAll(async () => {
  tmp = await tempDir('images');
  root = path.join(tmp.dir, 'images');
  agentEntry = path.join(tmp.dir, 'agent', 'agent.ts');
  await mkdir(path.dirname(agentEntry));
  // Stands in for src/runtime/agent/agent.ts: imports the function and runs it once.
  await writeFile(
    agentEntry,
    [
      'const event: unknown = JSON.parse(process.argv[2] ?? "null");',
      // No top-level await: the agent is bundled as CommonJS, and so is this function.
      'const mod = require("/function/index.cjs") as { default: (e: unknown) => unknown };',
      'void Promise.resolve(mod.default(event)).then((out) => console.log(JSON.stringify(out)));',
    ].join('\n'),
  );
  store = new ImageStore({ root, agentEntry });
  await store.init();
  const started = performance.now();
  base = await store.ensureBaseLayer();
  firstBaseMs = performance.now() - started;
  console.info(`base layer: first build ${Math.round(firstBaseMs)} ms, ${base.size} bytes compressed`);
});

afterAll(async () => {
  for (const m of mounts.reverse()) execFileSync('umount', [m]);
  await tmp?.remove();
});

const oci = (...p: string[]): string => path.join(root, 'oci', ...p);
const blob = (digest: string): Promise<Buffer> => readFile(oci('blobs', 'sha256', digest.slice('sha256:'.length)));
const json = async <T>(digest: string): Promise<T> => JSON.parse((await blob(digest)).toString('utf8')) as T;

describe('the OCI layout', () => {
  it('has oci-layout, an image index and blobs/sha256', async () => {
    expect(JSON.parse(await readFile(oci('oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    expect(JSON.parse(await readFile(oci('index.json'), 'utf8'))).toMatchObject({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
    });
    expect(statSync(oci('blobs', 'sha256')).isDirectory()).toBe(true);
  });

  it('init is idempotent and keeps the index', async () => {
    const before = await readFile(oci('index.json'), 'utf8');
    await new ImageStore({ root, agentEntry }).init();
    expect(await readFile(oci('index.json'), 'utf8')).toBe(before);
  });
});

describe('the base layer', () => {
  it('is a gzip blob whose digest and diffId match its bytes', async () => {
    const gz = await blob(base.digest);
    expect(sha256(gz)).toBe(base.digest);
    expect(gz.byteLength).toBe(base.size);
    const tar = gunzipSync(gz);
    expect(sha256(tar)).toBe(base.diffId);
    console.info(`base layer: ${tar.byteLength} bytes uncompressed, ${gz.byteLength} compressed`);
    expect(base.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
  });

  it('holds node with its libraries, tini, the agent, /etc and the mount points, reproducibly', async () => {
    const entries = await listTar(await blob(base.digest));
    const names = entries.map((e) => e.header.name);
    expect(names).toEqual([...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    for (const { header } of entries) {
      expect([header.uid, header.gid, header.mtime?.getTime(), header.uname, header.gname]).toEqual([0, 0, 0, '', '']);
    }
    const byName = new Map(entries.map((e) => [e.header.name, e]));
    for (const f of ['usr/bin/node', 'usr/bin/tini', 'lib64/ld-linux-x86-64.so.2', 'lib/x86_64-linux-gnu/libc.so.6', 'lib/x86_64-linux-gnu/libstdc++.so.6']) {
      expect(byName.get(f)?.header.mode, f).toBe(0o755);
    }
    expect(byName.get('usr/bin/node')?.header.size).toBe(statSync(process.execPath).size);
    expect(byName.get('usr/bin/tini')?.body.equals(await readFile('/usr/bin/tini-static'))).toBe(true);
    expect(byName.get('hearth/agent.cjs')?.body.toString()).toMatch(/'use strict';[\s\S]*process\.argv/);
    expect(byName.get('etc/passwd')?.body.toString()).toBe(
      'root:x:0:0:root:/root:/usr/sbin/nologin\nhearth:x:1000:1000:hearth:/tmp:/usr/sbin/nologin\n',
    );
    expect(byName.get('etc/group')?.body.toString()).toBe('root:x:0:\nhearth:x:1000:\n');
    expect(byName.get('etc/hosts')?.body.toString()).toMatch(/^127\.0\.0\.1\s+localhost\n::1\s+localhost\n$/);
    expect(byName.get('etc/nsswitch.conf')?.body.toString()).toMatch(/hosts: files dns/);
    if (existsSync('/etc/ssl/certs/ca-certificates.crt')) expect(byName.has('etc/ssl/certs/ca-certificates.crt')).toBe(true);
    for (const d of ['proc', 'sys', 'dev', 'run', 'etc', 'function', 'hearth', 'root']) expect(byName.get(`${d}/`)?.header.mode, d).toBe(0o755);
    expect(byName.get('tmp/')?.header.mode).toBe(0o1777);
  });

  it('is found in the cache by a fresh store (a restart) instead of being rebuilt', async () => {
    const blobMtime = statSync(oci('blobs', 'sha256', base.digest.slice(7))).mtimeMs;
    const again = new ImageStore({ root, agentEntry });
    const started = performance.now();
    const layer = await again.ensureBaseLayer();
    const cachedMs = performance.now() - started;
    console.info(`base layer: cached ${Math.round(cachedMs)} ms (first build ${Math.round(firstBaseMs)} ms)`);
    expect(layer).toEqual(base);
    expect(cachedMs).toBeLessThan(Math.max(1000, firstBaseMs / 4));
    expect(statSync(oci('blobs', 'sha256', base.digest.slice(7))).mtimeMs).toBe(blobMtime);
  });

  it('is reproducible: a build from scratch in another root gives the same digest', async () => {
    const other = new ImageStore({ root: path.join(tmp.dir, 'other-images'), agentEntry });
    expect(await other.ensureBaseLayer()).toEqual(base);
    await rm(path.join(tmp.dir, 'other-images'), { recursive: true });
  });

  it('is built once for concurrent callers', async () => {
    const fresh = new ImageStore({ root, agentEntry });
    const a = fresh.ensureBaseLayer();
    const b = fresh.ensureBaseLayer();
    expect(a).toBe(b);
    expect(await a).toEqual(base);
  });

  it('runs node from its own files (chroot into the unpacked layer)', async () => {
    const image = await store.buildFunctionImage('probe', hello, config);
    const [, baseDir] = await store.layerDirs(image.digest);
    const out = execFileSync('chroot', [baseDir, '/usr/bin/node', '-e', 'console.log(process.version)'], { encoding: 'utf8' });
    expect(out.trim()).toBe(process.version);
  });
});

describe('a function image', () => {
  let image: FunctionImage;

  beforeAll(async () => {
    image = await store.buildFunctionImage('hello', hello, config);
    console.info(`function image: built in ${image.buildMs} ms, bundle ${image.bundleBytes} bytes`);
  });

  it('is a manifest → config → [base, function] chain of verified blobs', async () => {
    expect(image).toMatchObject({ name: 'hello', layers: [base, expect.any(Object)] });
    expect(image.buildMs).toBeGreaterThan(0);
    const manifest = await json<{ schemaVersion: number; mediaType: string; config: { digest: string; size: number; mediaType: string }; layers: Array<{ digest: string; size: number; mediaType: string }>; annotations: Record<string, string> }>(image.digest);
    expect(manifest).toMatchObject({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: image.configDigest },
      annotations: { 'io.hearth.function': 'hello' },
    });
    expect(manifest.layers).toEqual(image.layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: l.size })));
    for (const d of [image.digest, image.configDigest, ...image.layers.map((l) => l.digest)]) {
      expect(sha256(await blob(d)), d).toBe(d);
    }
    const fnLayer = image.layers[1];
    expect(sha256(gunzipSync(await blob(fnLayer.digest)))).toBe(fnLayer.diffId);

    const imageConfig = await json<Record<string, unknown>>(image.configDigest);
    // The exact document is pinned by the unit test of functionImageConfig; here: that is what was stored.
    expect(imageConfig).toEqual(functionImageConfig('hello', [base.diffId, fnLayer.diffId]));
  });

  it('is named in index.json', async () => {
    const index = JSON.parse(await readFile(oci('index.json'), 'utf8')) as { manifests: Array<{ digest: string; size: number; annotations: Record<string, string> }> };
    const entry = index.manifests.find((m) => m.digest === image.digest);
    expect(entry).toMatchObject({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      size: (await blob(image.digest)).byteLength,
      annotations: { 'org.opencontainers.image.ref.name': 'hello', 'io.hearth.function': 'hello' },
    });
  });

  it('has a function layer with the bundle and hearth.json', async () => {
    const entries = await listTar(await blob(image.layers[1].digest));
    expect(entries.map((e) => [e.header.name, e.header.mode])).toEqual([
      ['function/', 0o755],
      ['function/hearth.json', 0o644],
      ['function/index.cjs', 0o644],
    ]);
    const hearthJson = entries[1].body.toString();
    expect(JSON.parse(hearthJson)).toEqual({ ...config, name: 'hello' });
    expect(hearthJson.indexOf('"A"')).toBeLessThan(hearthJson.indexOf('"B"')); // stable key order
    expect(entries[2].body.byteLength).toBe(image.bundleBytes);
  });

  it('is reproducible: the same source and config give the same digest', async () => {
    const again = await store.buildFunctionImage('hello', { kind: 'files', files: { ...hello.files } }, parseFunctionConfig({ env: { A: '1', B: '2' }, memoryMb: 256 }));
    expect(again.digest).toBe(image.digest);
    const index = JSON.parse(await readFile(oci('index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
    expect(index.manifests.filter((m) => m.digest === image.digest)).toHaveLength(1);
  });

  it('changes digest when the source, the config or the name changes, and keeps every version', async () => {
    const otherSource = await store.buildFunctionImage('hello', { kind: 'files', files: { 'index.ts': 'export default () => 2;\n' } }, config);
    const otherConfig = await store.buildFunctionImage('hello', hello, parseFunctionConfig({ memoryMb: 512 }));
    const otherName = await store.buildFunctionImage('hello-two', hello, config);
    const digests = new Set([image.digest, otherSource.digest, otherConfig.digest, otherName.digest]);
    expect(digests.size).toBe(4);
    expect(otherName.layers[0]).toEqual(base); // one shared base layer
    const index = JSON.parse(await readFile(oci('index.json'), 'utf8')) as { manifests: Array<{ digest: string; annotations: Record<string, string> }> };
    const helloVersions = index.manifests.filter((m) => m.annotations['io.hearth.function'] === 'hello').map((m) => m.digest);
    expect(helloVersions).toEqual(expect.arrayContaining([image.digest, otherSource.digest, otherConfig.digest]));
  });

  it('layerDirs gives [function, base] with the unpacked files', async () => {
    const dirs = await store.layerDirs(image.digest);
    expect(dirs).toEqual([path.join(root, 'layers', 'sha256', image.layers[1].diffId.slice(7)), path.join(root, 'layers', 'sha256', base.diffId.slice(7))]);
    expect(readdirSync(path.join(dirs[0], 'function')).sort()).toEqual(['hearth.json', 'index.cjs']);
    expect(statSync(path.join(dirs[1], 'usr/bin/node')).size).toBe(statSync(process.execPath).size);
    expect(await store.has(image.digest)).toBe(true);
  });

  it('knownLayerDirs: the dirs a build left in place, without reading the manifest; undefined once one is gone or in another store', async () => {
    const built = await store.buildFunctionImage('known', hello, config);
    const dirs = await store.layerDirs(built.digest);
    expect(await store.knownLayerDirs(built.digest)).toEqual(dirs);
    // A fresh store (a restart) has resolved nothing yet: the caller takes the long way.
    expect(await new ImageStore({ root, agentEntry }).knownLayerDirs(built.digest)).toBeUndefined();
    await rm(dirs[0]!, { recursive: true });
    expect(await store.knownLayerDirs(built.digest)).toBeUndefined();
    // The long way unpacks it again.
    expect(await store.layerDirs(built.digest)).toEqual(dirs);
    expect(await store.knownLayerDirs(built.digest)).toEqual(dirs);
  });

  it('layerDirs unpacks a missing layer again from its blob', async () => {
    const [fnDir] = await store.layerDirs(image.digest);
    await rm(fnDir, { recursive: true });
    const fresh = new ImageStore({ root, agentEntry });
    expect(await fresh.layerDirs(image.digest)).toEqual(await store.layerDirs(image.digest));
    expect(existsSync(path.join(fnDir, 'function', 'index.cjs'))).toBe(true);
  });

  it('layerDirs and has refuse unknown or malformed digests', async () => {
    const unknown = `sha256:${'0'.repeat(64)}`;
    await expect(store.layerDirs(unknown)).rejects.toThrow(/not in the store/);
    await expect(store.layerDirs('sha256:../../etc')).rejects.toThrow(/not a sha256 digest/);
    expect(await store.has(unknown)).toBe(false);
    expect(await store.has('nope')).toBe(false);
  });

  it('runs: overlay of its layer dirs, chroot, the agent imports the bundle', async () => {
    const target = path.join(tmp.dir, 'rootfs');
    await mkdir(target);
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${(await store.layerDirs(image.digest)).join(':')}`, target]);
    mounts.push(target);
    const out = execFileSync('chroot', ['--userspec=1000:1000', target, '/usr/bin/node', '/hearth/agent.cjs', '{"n":41}'], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ n: 42 });
  });
});

describe('building from a folder', () => {
  it('bundles functions/<name> with a dependency from the workspace node_modules', async () => {
    const ws = path.join(tmp.dir, 'ws');
    await mkdir(path.join(ws, 'node_modules', 'shout'), { recursive: true });
    await mkdir(path.join(ws, 'functions', 'yell'), { recursive: true });
    await writeFile(path.join(ws, 'node_modules', 'shout', 'index.js'), 'module.exports = (s) => s.toUpperCase() + "!";');
    await writeFile(path.join(ws, 'functions', 'yell', 'index.ts'), 'import shout from "shout";\nexport default (e: string) => shout(e);');
    const image = await store.buildFunctionImage('yell', { kind: 'dir', dir: path.join(ws, 'functions', 'yell') }, parseFunctionConfig({}));
    const [fnDir] = await store.layerDirs(image.digest);
    expect(await readFile(path.join(fnDir, 'function', 'index.cjs'), 'utf8')).toContain('toUpperCase');
  });
});

describe('build errors', () => {
  it('a syntax error is a BuildError with file:line:column, and nothing is named', async () => {
    const before = await readFile(oci('index.json'), 'utf8');
    const err = await store
      .buildFunctionImage('broken', { kind: 'files', files: { 'index.ts': 'export default () => {\n  return 1 +;\n};\n' } }, config)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BuildError);
    expect((err as Error).message).toMatch(/index\.ts:2:\d+: /);
    expect(await readFile(oci('index.json'), 'utf8')).toBe(before);
  });

  it('an unresolvable import is a BuildError', async () => {
    const err = await store
      .buildFunctionImage('broken', { kind: 'files', files: { 'index.ts': 'import x from "not-shipped";\nexport default x;' } }, config)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BuildError);
    expect((err as Error).message).toMatch(/Could not resolve "not-shipped"/);
  });

  it('a bad function name is a BuildError', async () => {
    await expect(store.buildFunctionImage('../x', hello, config)).rejects.toBeInstanceOf(BuildError);
  });
});
