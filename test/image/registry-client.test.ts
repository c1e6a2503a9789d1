import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFunctionConfig } from '../../src/config/index.ts';
import { ImageStore, RegistryClient, parseRegistry, pullImage, pushImage } from '../../src/image/index.ts';
import type { FunctionImage } from '../../src/image/index.ts';
import { AGENT_ENTRY } from '../../src/runtime/index.ts';
import { TEMPLATE_IMAGES_DIR } from '../helpers/template.ts';
import { tempDir } from './helpers.ts';
import { startRegistry, type TestRegistry } from './registry-server.ts';

/** The registry client and the store on their own, against a real registry without auth. */
let tmp: Awaited<ReturnType<typeof tempDir>>;
let registry: TestRegistry;
let client: RegistryClient;
let source: ImageStore;
let image: FunctionImage;

beforeAll(async () => {
  tmp = await tempDir('regclient');
  registry = await startRegistry();
  client = new RegistryClient({ location: parseRegistry(`${registry.host}/unit`) });
  const root = path.join(tmp.dir, 'source');
  if (existsSync(TEMPLATE_IMAGES_DIR)) execFileSync('cp', ['-al', TEMPLATE_IMAGES_DIR, root]);
  source = new ImageStore({ root, agentEntry: AGENT_ENTRY });
  image = await source.buildFunctionImage('moved', { kind: 'files', files: { 'index.ts': 'export default () => "moved";\n' } }, parseFunctionConfig({}));
});

afterAll(async () => {
  await registry?.close();
  await tmp?.remove();
});

describe('push and pull of a whole image', () => {
  it('moves every byte: a store that has nothing pulls the base layer too, verified', async () => {
    const pushed = await pushImage(client, await source.readImage(image.digest), 'unit/moved', { tags: ['latest'] });
    expect(pushed).toMatchObject({ uploadedBlobs: 3, skippedBlobs: 0 });
    const empty = new ImageStore({ root: path.join(tmp.dir, 'empty'), agentEntry: AGENT_ENTRY });
    const pulled = await pullImage(client, empty, 'moved', 'unit/moved', image.digest);
    const started = performance.now();
    const dirs = await empty.layerDirs(image.digest);
    const unpackMs = Math.round(performance.now() - started);
    console.info(
      `full image: push ${pushed.uploadedBytes} bytes in ${pushed.pushMs} ms; pull ${pulled.fetchedBytes} bytes in ${pulled.pullMs} ms; unpack ${unpackMs} ms`,
    );
    expect(pulled.fetchedBytes).toBeGreaterThan(image.layers[0]!.size);
    expect(await empty.has(image.digest)).toBe(true);
    expect(dirs).toHaveLength(2);
    expect(await readFile(path.join(dirs[0]!, 'function', 'index.cjs'), 'utf8')).toContain('moved');
    // Pulling again moves nothing but the manifest.
    const again = await pullImage(client, empty, 'moved', 'unit/moved', image.digest);
    expect(again.fetchedBytes).toBeLessThan(2000);
  });

  it('refuses a manifest whose bytes do not hash to the digest asked for', async () => {
    // Tamper with the manifest where the registry keeps it: still valid JSON, other bytes.
    const file = registry.blobDataPath(image.digest);
    const original = await readFile(file, 'utf8');
    await writeFile(file, original.replace('"io.hearth.function":"moved"', '"io.hearth.function":"moveX"'));
    try {
      const other = new ImageStore({ root: path.join(tmp.dir, 'other'), agentEntry: AGENT_ENTRY });
      const failure = await pullImage(client, other, 'moved', 'unit/moved', image.digest).then(
        () => 'pulled',
        (err: Error) => err.message,
      );
      console.info(`pull of a tampered manifest: ${failure}`);
      expect(failure).toMatch(/hashes to sha256:[0-9a-f]{64}: refused|digest/);
      expect(await other.has(image.digest)).toBe(false);
    } finally {
      await writeFile(file, original);
    }
  });

  it('refuses to push a blob that is corrupt on local disk', async () => {
    const broken = await source.buildFunctionImage('rotten', { kind: 'files', files: { 'index.ts': 'export default () => "rotten";\n' } }, parseFunctionConfig({}));
    const blob = path.join(tmp.dir, 'source', 'oci', 'blobs', 'sha256', broken.layers[1]!.digest.slice(7));
    const bytes = await readFile(blob);
    bytes[bytes.length - 20] ^= 0xff;
    await writeFile(blob, bytes);
    await expect(
      pushImage(client, await source.readImage(broken.digest), 'unit/rotten', { verifyBlob: (d) => source.verifyBlob(d) }),
    ).rejects.toThrow(/corrupt/);
    // Even without our check, the registry refuses bytes that do not match the digest.
    const refused = await pushImage(client, await source.readImage(broken.digest), 'unit/rotten').then(
      () => 'pushed',
      (err: Error) => err.message,
    );
    console.info(`the registry on a corrupt upload: ${refused}`);
    expect(refused).toMatch(/DIGEST_INVALID/);
  });
});

describe('a crash in the middle of a write', () => {
  it('leaves no blob under its final name; the temp file is collected once its writer is dead', async () => {
    const root = path.join(tmp.dir, 'crash');
    const store = new ImageStore({ root, agentEntry: AGENT_ENTRY });
    await store.init();
    const blobsDir = path.join(root, 'oci', 'blobs', 'sha256');
    const before = readdirSync(blobsDir);
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'crash-writer.ts'), blobsDir, path.join(root, 'tmp')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => d.toString().includes('half') && resolve());
      child.once('exit', (code) => reject(new Error(`writer exited early with ${code}`)));
    });
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;

    expect(readdirSync(blobsDir)).toEqual(before);
    const leftovers = readdirSync(path.join(root, 'tmp'));
    expect(leftovers).toEqual([expect.stringMatching(new RegExp(`^blob-${child.pid}-`))]);
    const report = await store.collect(async () => []);
    expect(report.removedTemp).toBe(1);
    expect(readdirSync(path.join(root, 'tmp'))).toEqual([]);
  });
});
