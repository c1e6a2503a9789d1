import { execFile, execFileSync } from 'node:child_process';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFunctionConfig } from '../../src/config/index.ts';
import { ImageStore } from '../../src/image/index.ts';
import type { FunctionImage } from '../../src/image/index.ts';
import { AGENT_ENTRY } from '../../src/runtime/index.ts';
import { TEMPLATE_IMAGES_DIR } from '../helpers/template.ts';
import { tempDir } from './helpers.ts';

/**
 * Hearth's images checked by tools no one here wrote: skopeo (containers/image) reads and copies
 * the layout, umoci unpacks it into a runtime bundle. And the other way round: an image umoci
 * derived (with whiteouts for deleted files) unpacks correctly in Hearth's store.
 */
const run = promisify(execFile);

let tmp: Awaited<ReturnType<typeof tempDir>>;
let store: ImageStore;
let layout: string;
let image: FunctionImage;
const mounts: string[] = [];

beforeAll(async () => {
  tmp = await tempDir('conformance');
  const root = path.join(tmp.dir, 'images');
  // The base layer built once per run (test/global-setup.ts), hard-linked: no 4 s rebuild.
  if (existsSync(TEMPLATE_IMAGES_DIR)) execFileSync('cp', ['-al', TEMPLATE_IMAGES_DIR, root]);
  store = new ImageStore({ root, agentEntry: AGENT_ENTRY });
  layout = path.join(root, 'oci');
  const config = parseFunctionConfig({});
  // Two versions of one name: the tools must see the latest under the name.
  await store.buildFunctionImage('conform', { kind: 'files', files: { 'index.ts': 'export default () => "old";\n' } }, config);
  image = await store.buildFunctionImage('conform', { kind: 'files', files: { 'index.ts': 'export default () => ({ ok: true });\n' } }, config);
});

afterAll(async () => {
  for (const m of mounts.reverse()) execFileSync('umount', [m]);
  await tmp?.remove();
});

interface SkopeoInspect {
  Digest: string;
  Architecture: string;
  Os: string;
  Layers: string[];
  Labels: Record<string, string>;
}

describe('skopeo', () => {
  it('inspects the layout by name: the latest manifest, its layers and labels', async () => {
    const { stdout } = await run('skopeo', ['inspect', `oci:${layout}:conform`]);
    const info = JSON.parse(stdout) as SkopeoInspect;
    expect(info.Digest).toBe(image.digest);
    expect(info.Layers).toEqual(image.layers.map((l) => l.digest));
    expect([info.Architecture, info.Os]).toEqual(['amd64', 'linux']);
    expect(info.Labels).toEqual({ 'io.hearth.function': 'conform' });
    const config = JSON.parse((await run('skopeo', ['inspect', '--config', `oci:${layout}:conform`])).stdout) as { rootfs: { diff_ids: string[] } };
    expect(config.rootfs.diff_ids).toEqual(image.layers.map((l) => l.diffId));
  });

  it('copies the image to another layout without changing a byte (same manifest digest)', async () => {
    const dest = path.join(tmp.dir, 'copy');
    await run('skopeo', ['copy', '--quiet', `oci:${layout}:conform`, `oci:${dest}:copied`]);
    const index = JSON.parse(await readFile(path.join(dest, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    expect(index.manifests.map((m) => m.digest)).toEqual([image.digest]);
    for (const l of image.layers) {
      expect(statSync(path.join(dest, 'blobs', 'sha256', l.digest.slice(7))).size).toBe(l.size);
    }
  });

  it('refuses a layout whose blob does not match its digest, as Hearth does', async () => {
    const broken = path.join(tmp.dir, 'broken');
    execFileSync('cp', ['-r', path.join(tmp.dir, 'copy'), broken]);
    const fnBlob = path.join(broken, 'blobs', 'sha256', image.layers[1]!.digest.slice(7));
    const bytes = readFileSync(fnBlob);
    bytes[bytes.length - 20] ^= 0xff;
    await writeFile(fnBlob, bytes);
    const failed = await run('skopeo', ['copy', '--quiet', `oci:${broken}:copied`, `oci:${path.join(tmp.dir, 'nowhere')}:x`]).then(
      () => undefined,
      (err: { stderr: string }) => err.stderr,
    );
    console.info(`skopeo on a corrupt blob: ${failed?.trim()}`);
    expect(failed).toMatch(/digest|checksum|does not match/i);
  });
});

describe('umoci', () => {
  it('unpacks the image into a runtime bundle whose rootfs holds the bundle and node', async () => {
    const bundle = path.join(tmp.dir, 'bundle');
    await run('umoci', ['unpack', '--image', `${layout}:conform`, bundle]);
    const rootfs = path.join(bundle, 'rootfs');
    expect(readFileSync(path.join(rootfs, 'function', 'index.cjs'), 'utf8')).toContain('ok: true');
    expect(JSON.parse(readFileSync(path.join(rootfs, 'function', 'hearth.json'), 'utf8'))).toMatchObject({ memoryMb: 128 });
    expect(statSync(path.join(rootfs, 'usr', 'bin', 'node')).size).toBe(statSync(process.execPath).size);
    // umoci turns the image config into an OCI runtime config.
    const spec = JSON.parse(readFileSync(path.join(bundle, 'config.json'), 'utf8')) as { process: { args: string[]; cwd: string; user: { uid: number } } };
    expect(spec.process.args).toEqual(['/usr/bin/tini', '--', '/usr/bin/node', '/hearth/agent.cjs']);
    expect(spec.process.cwd).toBe('/function');
    expect(spec.process.user.uid).toBe(1000);
  });

  it('lists each function name once as a tag', async () => {
    const { stdout } = await run('umoci', ['ls', '--layout', layout]);
    expect(stdout.split('\n').filter((l) => l === 'conform')).toHaveLength(1);
  });

  it('an image umoci derived with deletions unpacks in Hearth with the files whited out', async () => {
    // umoci's own layout: copy ours, unpack, delete a file and a directory, repack as a new tag.
    const theirs = path.join(tmp.dir, 'umoci-layout');
    await run('skopeo', ['copy', '--quiet', `oci:${layout}:conform`, `oci:${theirs}:base`]);
    const work = path.join(tmp.dir, 'umoci-work');
    await run('umoci', ['unpack', '--image', `${theirs}:base`, work]);
    await rm(path.join(work, 'rootfs', 'function', 'hearth.json'));
    await rm(path.join(work, 'rootfs', 'etc', 'ssl'), { recursive: true, force: true });
    await writeFile(path.join(work, 'rootfs', 'function', 'added.txt'), 'from umoci');
    await run('umoci', ['repack', '--image', `${theirs}:derived`, work]);

    const index = JSON.parse(await readFile(path.join(theirs, 'index.json'), 'utf8')) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
    const derived = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === 'derived')!;
    const theirBlob = (digest: string): string => path.join(theirs, 'blobs', 'sha256', digest.slice(7));
    const imported = await store.importImage('derived', derived.digest, readFileSync(theirBlob(derived.digest)), async (d) => createReadStream(theirBlob(d.digest)));
    expect(imported.fetchedBytes).toBeGreaterThan(0); // umoci's new layer and config
    expect(imported.fetchedBytes).toBeLessThan(1_000_000); // the base layer was already here

    const dirs = await store.layerDirs(derived.digest);
    expect(dirs).toHaveLength(3);
    const target = path.join(tmp.dir, 'derived-rootfs');
    await mkdir(target);
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${dirs.join(':')}`, target]);
    mounts.push(target);
    expect(existsSync(path.join(target, 'function', 'hearth.json'))).toBe(false);
    expect(existsSync(path.join(target, 'etc', 'ssl'))).toBe(false);
    expect(readFileSync(path.join(target, 'function', 'added.txt'), 'utf8')).toBe('from umoci');
    expect(readFileSync(path.join(target, 'function', 'index.cjs'), 'utf8')).toContain('ok: true');
    expect(existsSync(path.join(target, 'usr', 'bin', 'node'))).toBe(true);
  });
});
