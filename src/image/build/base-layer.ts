import { createHash } from 'node:crypto';
import { readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { isDigest } from '../digest.ts';
import { canonicalJson } from '../json.ts';
import { writeFileAtomic } from '../store/atomic.ts';
import type { LayerInfo } from '../types.ts';
import { formatMessages, isBuildFailure, nodeBundleOptions } from './esbuild-options.ts';
import { GZIP_LEVEL } from './layer.ts';
import { sharedLibraries } from './ldd.ts';
import type { TarEntry } from './tar.ts';
import { NODE_PRELOAD_PATH, NODE_PRELOAD_SOURCE } from './node-preload.ts';
import { AGENT_BUNDLE_PATH } from './agent-path.ts';

/** Bump when the layer's layout changes, so cached layers from older code are not reused. */
const BASE_LAYER_FORMAT = 1;

export const TINI_SOURCE = '/usr/bin/tini-static';
const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

export interface BaseLayerPlan {
  entries: TarEntry[];
  /** Hash of every input; equal keys build byte-identical layers. */
  key: string;
}

/**
 * What goes into the shared runtime layer: the host's node with the exact libraries it links
 * (at the paths its loader asks for), tini as pid 1, the agent bundle, a minimal /etc, and the
 * empty mount points runc needs on a read-only rootfs. Computing the plan is cheap (stat, ldd,
 * one esbuild run); writing it is not (~100 MB through gzip), hence the key.
 */
export async function planBaseLayer(agentEntry: string): Promise<BaseLayerPlan> {
  const node = await realpath(process.execPath);
  const hostFiles: Array<[imagePath: string, hostPath: string]> = [
    ['/usr/bin/node', node],
    ...(await sharedLibraries(node)).map((lib): [string, string] => [lib, lib]),
    ['/usr/bin/tini', TINI_SOURCE],
  ];
  if (await exists(CA_BUNDLE)) hostFiles.push([CA_BUNDLE, CA_BUNDLE]);

  const entries: TarEntry[] = [];
  const keyParts: unknown[] = [];
  for (const [imagePath, hostPath] of hostFiles) {
    const real = await realpath(hostPath).catch(() => {
      throw new Error(`base layer input ${hostPath} is missing${hostPath === TINI_SOURCE ? ' (apt-get install tini)' : ''}`);
    });
    const st = await stat(real);
    const mode = imagePath === CA_BUNDLE ? 0o644 : 0o755;
    entries.push({ type: 'file', path: imagePath, mode, content: { hostPath: real, size: st.size } });
    keyParts.push([imagePath, real, st.size, st.mtimeMs, st.ino]);
  }

  const generated: Array<[string, Uint8Array]> = [
    [AGENT_BUNDLE_PATH, await bundleAgent(agentEntry)],
    [NODE_PRELOAD_PATH, Buffer.from(NODE_PRELOAD_SOURCE)],
    ['/etc/passwd', text('root:x:0:0:root:/root:/usr/sbin/nologin', 'hearth:x:1000:1000:hearth:/tmp:/usr/sbin/nologin')],
    ['/etc/group', text('root:x:0:', 'hearth:x:1000:')],
    ['/etc/hosts', text('127.0.0.1\tlocalhost', '::1\tlocalhost')],
    ['/etc/nsswitch.conf', text('passwd: files', 'group: files', 'hosts: files dns')],
    // Empty: a networked container gets its resolver bind-mounted over it (a read-only rootfs
    // cannot grow the mount point).
    ['/etc/resolv.conf', new Uint8Array(0)],
  ];
  for (const [imagePath, content] of generated) {
    entries.push({ type: 'file', path: imagePath, mode: 0o644, content });
    keyParts.push([imagePath, createHash('sha256').update(content).digest('hex')]);
  }

  // Mount points: runc cannot create them on a read-only rootfs.
  for (const dir of ['/proc', '/sys', '/dev', '/run', '/etc', '/function', '/hearth', '/root']) {
    entries.push({ type: 'dir', path: dir, mode: 0o755 });
  }
  entries.push({ type: 'dir', path: '/tmp', mode: 0o1777 });
  keyParts.push(['dirs', entries.filter((e) => e.type === 'dir').map((e) => [e.path, e.mode])]);

  const key = createHash('sha256')
    .update(canonicalJson({ format: BASE_LAYER_FORMAT, gzip: GZIP_LEVEL, zlib: process.versions.zlib, inputs: keyParts }))
    .digest('hex');
  return { entries, key };
}

/**
 * How the agent is bundled into AGENT_BUNDLE_PATH: like a function, except that it is CommonJS
 * and the function itself is loaded at run time from its own layer, never bundled into the agent.
 */
export function agentBundleOptions(agentEntry: string): esbuild.BuildOptions & { write: false } {
  const entry = path.resolve(agentEntry);
  return { ...nodeBundleOptions(path.dirname(entry), entry, { format: 'cjs' }), external: ['/function/*'] };
}

/** The agent is our code, not the user's: a failure here is an internal error, not a BuildError. */
async function bundleAgent(agentEntry: string): Promise<Uint8Array> {
  try {
    const result = await esbuild.build(agentBundleOptions(agentEntry));
    const [out] = result.outputFiles;
    if (!out) throw new Error('esbuild produced no output');
    return out.contents;
  } catch (err) {
    if (isBuildFailure(err)) throw new Error(`cannot bundle the agent ${agentEntry}:\n${formatMessages(err.errors)}`);
    throw err;
  }
}

/** `<root>/base-layer.json`: plan key → layer, so a restart finds the layer instead of rebuilding it. */
export class BaseLayerCache {
  static readonly MAX_ENTRIES = 8;
  readonly #file: string;

  constructor(file: string) {
    this.#file = file;
  }

  async get(key: string): Promise<LayerInfo | undefined> {
    return (await this.#read())[key];
  }

  async set(key: string, layer: LayerInfo): Promise<void> {
    const layers = await this.#read();
    delete layers[key];
    layers[key] = layer;
    const keys = Object.keys(layers);
    for (const old of keys.slice(0, Math.max(0, keys.length - BaseLayerCache.MAX_ENTRIES))) delete layers[old];
    await writeFileAtomic(this.#file, JSON.stringify({ version: 1, layers }, null, 2));
  }

  /** A missing or unreadable cache is just a cold cache. */
  async #read(): Promise<Record<string, LayerInfo>> {
    try {
      const parsed = JSON.parse(await readFile(this.#file, 'utf8')) as { version?: number; layers?: Record<string, LayerInfo> };
      if (parsed.version !== 1 || !parsed.layers) return {};
      const valid: Record<string, LayerInfo> = {};
      for (const [key, l] of Object.entries(parsed.layers)) {
        if (isDigest(l.digest) && isDigest(l.diffId) && Number.isInteger(l.size)) valid[key] = l;
      }
      return valid;
    } catch {
      return {};
    }
  }
}

function text(...lines: string[]): Uint8Array {
  return Buffer.from(`${lines.join('\n')}\n`);
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}
