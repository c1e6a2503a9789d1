import { AssetsTooLargeError, BuildError } from '../errors.ts';
import { globToRegExp, matchesPathOrParent } from './glob.ts';
import { IgnoreFile } from './ignore-file.ts';

/** The file in a function's folder that excludes files from its layer. */
export const IGNORE_FILE = '.hearthignore';

/** Everything a function layer carries beside its bundle, unless HEARTH_MAX_ASSET_BYTES says otherwise. */
export const DEFAULT_MAX_ASSET_BYTES = 50 * 1024 * 1024;

/** The asset cap in bytes: HEARTH_MAX_ASSET_BYTES when set to a positive integer, else 50 MiB. */
export function maxAssetBytes(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.HEARTH_MAX_ASSET_BYTES;
  if (raw === undefined || raw === '') return DEFAULT_MAX_ASSET_BYTES;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`HEARTH_MAX_ASSET_BYTES must be a positive integer, not ${JSON.stringify(raw)}`);
  return n;
}

/** esbuild bundles these into the function's bundle: they are code, not files to ship. */
const CODE_EXTENSIONS = ['.ts', '.mts', '.cts', '.tsx', '.js', '.mjs', '.cjs', '.jsx'];
/**
 * Build metadata: how the code was installed and compiled. esbuild has used it already (and bundles
 * `require('./package.json')`); shipping it would only cost the function its stem-cell start.
 */
const BUILD_FILES = new Set(['package.json', 'package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lockb', 'tsconfig.json']);
/**
 * Paths the layer itself uses at the function's root: the bundle and the config. A user file of
 * that name would be overwritten, so it never counts as an asset.
 */
const RESERVED = new Set(['index.cjs', 'index.mjs', 'hearth.json', IGNORE_FILE]);

export interface AssetRules {
  /** hearth.json `files`: when given, exactly the files matching one of these globs (or under a matching folder). */
  include?: readonly string[] | undefined;
  /** The folder's `.hearthignore` text, applied after `include`. */
  ignore?: string | undefined;
}

/**
 * Whether a file of the function's folder is shipped with it by default: anything that is not
 * code, not under node_modules, not a dot-file or inside a dot-folder (.git, .env), not build
 * metadata (package.json, lock files, tsconfig.json).
 */
export function isDefaultAsset(rel: string): boolean {
  const segments = rel.split('/');
  if (segments.some((s) => s.startsWith('.') || s === 'node_modules')) return false;
  const base = segments[segments.length - 1]!;
  if (BUILD_FILES.has(base)) return false;
  return !CODE_EXTENSIONS.some((ext) => base.endsWith(ext));
}

/**
 * The files of a function's folder that go into its layer beside the bundle (relative posix
 * paths, in the order given). Pure: the CLI and the server apply the same rules to the same list.
 */
export function selectAssets(paths: readonly string[], rules: AssetRules = {}): string[] {
  const include = rules.include?.map((g) => {
    if (g.startsWith('/') || g.split('/').includes('..')) throw new BuildError(`files: glob ${JSON.stringify(g)} must stay inside the function's folder`);
    return globToRegExp(g.replace(/^\.\//, '').replace(/\/+$/, ''));
  });
  const ignore = rules.ignore === undefined ? undefined : new IgnoreFile(rules.ignore);
  return paths.filter((rel) => {
    if (RESERVED.has(rel)) return false;
    const wanted = include ? include.some((re) => matchesPathOrParent(re, rel)) : isDefaultAsset(rel);
    return wanted && !(ignore?.ignores(rel) ?? false);
  });
}

/** Throws AssetsTooLargeError (413) when the files beside the bundle add up past `limit`. */
export function checkAssetBytes(files: readonly { path: string; size: number }[], limit: number): number {
  let total = 0;
  for (const f of files) total += f.size;
  if (total > limit) {
    const largest = [...files].sort((a, b) => b.size - a.size).slice(0, 3).map((f) => `${f.path} (${f.size} bytes)`);
    throw new AssetsTooLargeError(
      `the files beside the code add up to ${total} bytes, over the limit of ${limit} (HEARTH_MAX_ASSET_BYTES); ` +
        `largest: ${largest.join(', ')}. Narrow them with "files" in hearth.json or a ${IGNORE_FILE}`,
    );
  }
  return total;
}
