/**
 * Where the agent finds the function's bundle and how it loads it. The image ships it as
 * CommonJS (`index.cjs`, required: no ES module loader to start) or, when its code needs one
 * and in older images, as an ES module (`index.mjs`, imported).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, normalize } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Script } from 'node:vm';
import { runCommonJs } from './code-cache.ts';
import { moduleNamespace } from './find-handler.ts';

const BUNDLE_NAMES = ['index.cjs', 'index.mjs'] as const;

/** The bundle in `dir` (an image's /function), if there is one. */
export function bundleIn(dir: string): string | undefined {
  return BUNDLE_NAMES.map((name) => join(dir, name)).find((path) => existsSync(path));
}

/**
 * A specialize message's files, their bytes cut from the frame's attachment in order, and the
 * code cache whose bytes follow them (when the message has one).
 */
export function filesOf(
  m: { files: { path: string; bytes: number }[]; codeCache?: { bytes: number } },
  attachment: Buffer | undefined,
): { files: Record<string, Buffer>; codeCache?: Buffer } {
  const filesBytes = m.files.reduce((sum, f) => sum + f.bytes, 0);
  const cacheBytes = m.codeCache?.bytes ?? 0;
  const total = filesBytes + cacheBytes;
  if (!attachment || attachment.length !== total) throw new Error(`specialize: the files and code cache take ${total} bytes, ${attachment?.length ?? 0} came`);
  const files: Record<string, Buffer> = {};
  let offset = 0;
  for (const f of m.files) {
    files[f.path] = attachment.subarray(offset, offset + f.bytes);
    offset += f.bytes;
  }
  return cacheBytes > 0 ? { files, codeCache: attachment.subarray(filesBytes) } : { files };
}

/** The bundle's name among the files a stem cell is sent. */
export function bundleAmong(files: Record<string, unknown>): string {
  const name = BUNDLE_NAMES.find((n) => files[n] !== undefined);
  if (!name) throw new Error(`specialize: no ${BUNDLE_NAMES.join(' or ')} in the function files`);
  return name;
}

/** Writes the files a stem cell is sent under `root` (read-only); a path that leaves `root` is refused. */
export function writeBundleFiles(root: string, files: Record<string, Buffer>): void {
  for (const [rel, source] of Object.entries(files)) {
    const target = normalize(join(root, rel));
    if (!target.startsWith(`${root}/`)) throw new Error(`specialize: bad file path ${JSON.stringify(rel)}`);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, source, { mode: 0o444 });
  }
}

export interface LoadedBundle {
  /** Its exports, as an import's namespace. */
  namespace: Record<string, unknown>;
  /** The Script it was compiled through, when a code cache can be made of it. */
  script?: Script;
  /** What V8 made of the code cache it was given. */
  cache?: 'accepted' | 'rejected';
}

/**
 * Loads the bundle (after setModuleGlobals). With `codeCache` (the host keeps one for this
 * function), a CommonJS bundle is compiled through a Script, using `codeCache.data` if there is
 * one, so that a cache can be made of it.
 */
export async function loadBundle(entry: string, codeCache?: { data?: Buffer }): Promise<LoadedBundle> {
  if (!entry.endsWith('.cjs')) return { namespace: (await import(pathToFileURL(entry).href)) as Record<string, unknown> };
  if (!codeCache) return { namespace: moduleNamespace(createRequire(entry)(entry)) };
  const { exports, script } = runCommonJs(entry, readFileSync(entry, 'utf8'), codeCache.data);
  return { namespace: moduleNamespace(exports), script, ...(codeCache.data ? { cache: script.cachedDataRejected ? 'rejected' : 'accepted' } : {}) };
}

/** Forgets a CommonJS bundle required without a code cache (a stem cell's rehearsal). */
export function dropBundle(entry: string): void {
  delete createRequire(entry).cache[entry];
}

/**
 * What CommonJS code expects beside it. An ES module bundle has no __dirname and __filename (a
 * CommonJS one gets the same values from node); as globals they resolve wherever the code (or a
 * bundled dependency) does not declare its own, and point at the function's directory as the
 * container sees it.
 */
export function setModuleGlobals(entry: string, functionName: string): void {
  const g = globalThis as Record<string, unknown>;
  g.__filename = entry;
  g.__dirname = dirname(entry);
  // What Lambda code reads from its environment; the function's own env wins.
  process.env.LAMBDA_TASK_ROOT ??= dirname(entry);
  process.env.AWS_LAMBDA_FUNCTION_NAME ??= functionName;
  process.env.AWS_LAMBDA_FUNCTION_VERSION ??= process.env.HEARTH_VERSION ?? '1';
  if (process.env.HEARTH_MEMORY_MB) process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ??= process.env.HEARTH_MEMORY_MB;
}
