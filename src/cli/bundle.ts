import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import * as esbuild from 'esbuild';
import {
  BuildError,
  DEFAULT_ENTRIES,
  DiskHost,
  formatMessages,
  functionLayerFiles,
  isBuildFailure,
  maxAssetBytes,
  nodeBundleOptions,
  type DeployFileContent,
} from '../image/index.ts';
import { UsageError } from './output.ts';

export interface LocalBundle {
  name: string;
  /** hearth.json, minus `entry` (the bundle replaces it). */
  config: Record<string, unknown>;
  code: string;
  entry: string;
  bytes: number;
  /** The files shipped beside the bundle (assets, `external` packages), as the deploy body carries them. */
  files: Record<string, DeployFileContent>;
  fileBytes: number;
  ms: number;
}

/**
 * Bundles a function folder (or one file) on this machine with esbuild, so the folder's own
 * node_modules are used, then the server only re-bundles one self-contained file. Same options
 * and default entries as the server, except that the output keeps `require` free: the server's
 * bundle adds the createRequire banner CommonJS deps need, and it must appear only once.
 */
export async function bundleLocal(target: string, nameOverride?: string): Promise<LocalBundle> {
  const started = performance.now();
  const abs = path.resolve(target);
  const info = await stat(abs).catch(() => undefined);
  if (!info) throw new UsageError(`${target}: no such file or directory`);
  const dir = info.isDirectory() ? abs : path.dirname(abs);
  const configPath = path.join(dir, 'hearth.json');
  let config: Record<string, unknown> = {};
  if (info.isDirectory() && existsSync(configPath)) {
    try {
      config = JSON.parse(await readFile(configPath, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new UsageError(`${configPath}: ${(err as Error).message}`);
    }
  }
  let entry: string;
  if (!info.isDirectory()) entry = path.basename(abs);
  else if (typeof config.entry === 'string') entry = config.entry;
  else {
    const found = DEFAULT_ENTRIES.find((e) => existsSync(path.join(dir, e)));
    if (!found) throw new UsageError(`${target}: no entry file (set "entry" in hearth.json or add one of ${DEFAULT_ENTRIES.join(', ')})`);
    entry = found;
  }
  const base = info.isDirectory() ? path.basename(abs) : path.basename(abs).replace(/\.[^.]+$/, '');
  const name = nameOverride ?? (typeof config.name === 'string' ? config.name : base.toLowerCase());

  const external = stringList(config.external);
  let result;
  try {
    result = await esbuild.build({
      ...nodeBundleOptions(dir, entry, { requireShim: false }),
      external: external.flatMap((n) => [n, `${n}/*`]),
    });
  } catch (err) {
    if (!isBuildFailure(err)) throw err;
    throw new Error(`bundling failed:\n${formatMessages(err.errors)}`);
  }
  const code = result.outputFiles[0]!.text;
  // A single file has no folder of its own: only a folder ships what lies beside the code.
  const files = info.isDirectory() ? await besideTheCode(dir, config) : { files: {}, bytes: 0 };
  // The bundle replaces `entry`; an overriding --name replaces `name` (the server checks they agree).
  const { entry: _entry, ...rest } = config;
  if (nameOverride !== undefined) delete rest.name;
  return { name, config: rest, code, entry, bytes: Buffer.byteLength(code), files: files.files, fileBytes: files.bytes, ms: performance.now() - started };
}

function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/**
 * The folder's files beside the code, chosen by the server's own rules (so what `hearth deploy`
 * sends is what a server-side build of the folder would ship): text as is, anything else base64.
 */
async function besideTheCode(dir: string, config: Record<string, unknown>): Promise<{ files: Record<string, DeployFileContent>; bytes: number }> {
  const rules = { files: Array.isArray(config.files) ? stringList(config.files) : undefined, external: stringList(config.external) };
  let chosen;
  try {
    chosen = await functionLayerFiles(new DiskHost(dir), rules, maxAssetBytes());
  } catch (err) {
    if (err instanceof BuildError) throw new UsageError(err.message);
    throw err;
  }
  const files: Record<string, DeployFileContent> = {};
  let bytes = 0;
  for (const f of chosen) {
    const content = f.content instanceof Uint8Array ? Buffer.from(f.content) : await readFile(f.content.hostPath);
    bytes += content.byteLength;
    const text = content.toString('utf8');
    files[f.rel] = Buffer.from(text, 'utf8').equals(content) ? text : { base64: content.toString('base64') };
  }
  return { files, bytes };
}
