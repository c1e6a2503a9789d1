import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/** Where the image module puts a function's files in its top layer (see image/build/function-layer.ts). */
const FUNCTION_DIR = 'function';

/**
 * A function's files as a stem cell receives them (relative path → UTF-8 source), read from the
 * unpacked function layer. Bundles are esbuild output (text); the layer holds index.mjs and hearth.json.
 */
export async function readFunctionFiles(topLayerDir: string): Promise<Record<string, string>> {
  const root = path.join(topLayerDir, FUNCTION_DIR);
  const files: Record<string, string> = {};
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) files[path.relative(root, p)] = await readFile(p, 'utf8');
    }
  };
  await walk(root);
  if (files['index.mjs'] === undefined) throw new Error(`no ${FUNCTION_DIR}/index.mjs in ${topLayerDir}`);
  return files;
}

/** Function files read for stem cells, by image digest; a handful of recent ones is plenty. */
const FILES_CACHE_SIZE = 32;

/** A function's files by image digest, read once and kept for the most recent images. */
export class FunctionFilesCache {
  private readonly byDigest = new Map<string, Promise<Record<string, string>>>();

  /** `layerDirs`: the image's unpacked layer dirs, top-most (the function layer) first. */
  constructor(private readonly layerDirs: (digest: string) => Promise<string[]>) {}

  get(digest: string): Promise<Record<string, string>> {
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
