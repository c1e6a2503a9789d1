import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/** Where the image module puts a function's files in its top layer (see image/build/function-layer.ts). */
const FUNCTION_DIR = 'function';

/** The bundle (CommonJS or an ES module, see image/build/function-layer.ts). */
const BUNDLE_FILES = ['index.cjs', 'index.mjs'];
/** What a stem cell can be sent: the bundle and its config, both text. */
const CODE_FILES = new Set([...BUNDLE_FILES, 'hearth.json']);

/**
 * A function's files as a stem cell receives them (relative path → bytes), read from the
 * unpacked function layer; undefined when the layer ships more than its bundle and config (assets,
 * `external` packages). Such a function starts cold from its own image: its files, binary ones
 * included and up to the asset cap, are already in place there, at the paths its code expects.
 */
export async function readFunctionFiles(topLayerDir: string): Promise<Record<string, Buffer> | undefined> {
  const root = path.join(topLayerDir, FUNCTION_DIR);
  const entries = await readdir(root, { withFileTypes: true });
  if (entries.some((e) => !e.isFile() || !CODE_FILES.has(e.name))) return undefined;
  const files: Record<string, Buffer> = {};
  for (const e of entries) files[e.name] = await readFile(path.join(root, e.name));
  if (!BUNDLE_FILES.some((name) => files[name] !== undefined)) throw new Error(`no function bundle (${BUNDLE_FILES.join(' or ')}) in ${topLayerDir}/${FUNCTION_DIR}`);
  return files;
}

/** Function files read for stem cells, by image digest; a handful of recent ones is plenty. */
const FILES_CACHE_SIZE = 32;

/** A function's files by image digest, read once and kept for the most recent images. */
export class FunctionFilesCache {
  private readonly byDigest = new Map<string, Promise<Record<string, Buffer> | undefined>>();

  /** `layerDirs`: the image's unpacked layer dirs, top-most (the function layer) first. */
  constructor(private readonly layerDirs: (digest: string) => Promise<string[]>) {}

  /** undefined: the function ships files beside its code and does not run in a stem cell. */
  get(digest: string): Promise<Record<string, Buffer> | undefined> {
    let files = this.byDigest.get(digest);
    if (!files) {
      files = this.layerDirs(digest).then((dirs) => readFunctionFiles(dirs[0]!));
      // A failed read is not remembered: the next invocation tries again.
      files.catch(() => this.byDigest.delete(digest));
      if (this.byDigest.size >= FILES_CACHE_SIZE) this.byDigest.delete(this.byDigest.keys().next().value!);
      this.byDigest.set(digest, files);
    }
    return files;
  }
}
