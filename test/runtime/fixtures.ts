/**
 * Test rootfs layers built from this host, following the image contract: a base layer with node
 * (+ the libs ldd lists), tini at /usr/bin/tini, the agent bundle at /hearth/agent.cjs, the node
 * preload, /etc/passwd
 * with uid 1000 and the empty mount-point dirs; and small function layers holding
 * /function/index.mjs. Layers are content-addressed under the OS temp dir, so every test file
 * (and later runs) reuses them; the ~100 MB node binary is hard-linked when possible.
 */
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmod, copyFile, link, mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { AGENT_BUNDLE_PATH, NODE_PRELOAD_PATH, NODE_PRELOAD_SOURCE, REQUIRE_BANNER, agentBundleOptions } from '../../src/image/index.ts';
import { AGENT_ENTRY } from '../../src/runtime/index.ts';

const CACHE = join(tmpdir(), 'hearth-runtime-fixtures');
const NODE = realpathSync(process.execPath);
const TINI = '/usr/bin/tini-static';

const basePromises = new Map<string, Promise<string>>();

/** The agent bundled exactly as the image module does it; `legacy`: as base layers before the CommonJS agent held it. */
export async function bundleAgent(legacy = false): Promise<string> {
  const options = agentBundleOptions(AGENT_ENTRY);
  const out = await build(legacy ? { ...options, format: 'esm', banner: { js: REQUIRE_BANNER } } : options);
  return out.outputFiles[0].text;
}

/** Shared libraries node needs, as ldd reports them (absolute paths as the loader looks them up). */
function nodeLibs(): string[] {
  const out = execFileSync('ldd', [NODE], { encoding: 'utf8' });
  const libs: string[] = [];
  for (const line of out.split('\n')) {
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)/.exec(line);
    if (m) libs.push(m[1]);
  }
  return libs;
}

async function linkOrCopy(src: string, dest: string): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  try {
    await link(src, dest);
  } catch {
    await copyFile(src, dest);
  }
}

/** Builds dir via fill(tmp) once per key; concurrent builders race harmlessly on the final rename. */
async function cached(name: string, fill: (dir: string) => Promise<void>): Promise<string> {
  const dir = join(CACHE, name);
  if (existsSync(dir)) return dir;
  await mkdir(CACHE, { recursive: true });
  const tmp = await mkdtemp(join(CACHE, `.${name}-`));
  await fill(tmp);
  await chmod(tmp, 0o755);
  try {
    await rename(tmp, dir);
  } catch {
    await rm(tmp, { recursive: true, force: true });
  }
  return dir;
}

/** `legacyAgent`: the agent as an ES module at /hearth/agent.mjs, as in base layers built before the CommonJS one. */
export function baseLayer(o: { legacyAgent?: boolean } = {}): Promise<string> {
  const agentPath = o.legacyAgent ? 'hearth/agent.mjs' : AGENT_BUNDLE_PATH.slice(1);
  let basePromise = basePromises.get(agentPath);
  basePromise ??= (async () => {
    const agent = await bundleAgent(o.legacyAgent);
    const nodeStat = await stat(NODE);
    const key = createHash('sha256')
      // Bump when the layout below changes: the cache is keyed by its inputs.
      .update('layout-2')
      .update(agentPath)
      .update(agent)
      .update(NODE_PRELOAD_SOURCE)
      .update(`${NODE}:${nodeStat.size}:${nodeStat.mtimeMs}:${(await stat(TINI)).size}`)
      .digest('hex')
      .slice(0, 16);
    return cached(`base-${key}`, async (root) => {
      for (const d of ['proc', 'sys', 'dev', 'tmp', 'run', 'etc', 'function', 'hearth', 'usr/bin']) {
        await mkdir(join(root, d), { recursive: true, mode: 0o755 });
      }
      await chmod(join(root, 'tmp'), 0o1777);
      await linkOrCopy(NODE, join(root, 'usr/bin/node'));
      await copyFile(TINI, join(root, 'usr/bin/tini'));
      await chmod(join(root, 'usr/bin/tini'), 0o755);
      for (const lib of nodeLibs()) await linkOrCopy(realpathSync(lib), join(root, lib));
      await writeFile(join(root, agentPath), agent);
      await writeFile(join(root, NODE_PRELOAD_PATH), NODE_PRELOAD_SOURCE);
      await writeFile(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/sbin/nologin\nhearth:x:1000:1000:hearth:/tmp:/sbin/nologin\n');
      await writeFile(join(root, 'etc/group'), 'root:x:0:\nhearth:x:1000:\n');
      await writeFile(join(root, 'etc/nsswitch.conf'), 'passwd: files\ngroup: files\nhosts: files dns\n');
      // The mount point a networked container's resolver is bound over.
      await writeFile(join(root, 'etc/resolv.conf'), '');
    });
  })();
  basePromises.set(agentPath, basePromise);
  return basePromise;
}

/** A layer with /function/<file> = source: ESM (`index.mjs`), or CommonJS (`index.cjs`) as the image build writes most bundles. */
export function functionLayer(source: string, file: 'index.mjs' | 'index.cjs' = 'index.mjs'): Promise<string> {
  const key = createHash('sha256').update(source).digest('hex').slice(0, 16);
  return cached(`${file === 'index.cjs' ? 'cjs' : 'fn'}-${key}`, async (root) => {
    await mkdir(join(root, 'function'), { recursive: true, mode: 0o755 });
    await writeFile(join(root, 'function', file), source);
    await writeFile(join(root, 'function/hearth.json'), '{}\n');
  });
}

/** [function layer, base layer]: top-most first, as ContainerOptions.layerDirs wants. */
export async function layersFor(source: string): Promise<string[]> {
  return [await functionLayer(source), await baseLayer()];
}

/** A fresh instance id (scopes runc root and cgroups) so test files never see each other. */
export function testInstance(): string {
  return 't' + randomBytes(5).toString('hex');
}

export async function tempStateDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'hearth-runtime-state-'));
}
