import { mkdir, mkdtemp, realpath, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as esbuild from 'esbuild';
import type { Plugin } from 'esbuild';
import { BuildError } from '../errors.ts';
import type { FunctionSource } from '../types.ts';
import { formatMessages, isBuildFailure, nodeBundleOptions, type BundleFormat } from './esbuild-options.ts';
import { esbuildExternals } from './external-packages.ts';
import { DiskHost, MapHost, type SourceHost } from './source-host.ts';
import { DEFAULT_ENTRIES, userPath, validateFiles } from './source-files.ts';

export interface Bundle {
  code: Uint8Array;
  /** The entry used, relative to the source root. */
  entry: string;
  /** CommonJS unless the code needs an ES module (see buildPreferringCjs). */
  format: BundleFormat;
}

/**
 * Bundles a function's code and every npm dependency it imports into one file. Only node
 * built-ins and `external` packages (left to node at run time; the layer carries them) stay external.
 * `files` are written to a fresh temp dir and may import nothing but each other (and node
 * built-ins); `dir` is bundled in place, so its own and its parents' node_modules resolve.
 */
export async function bundleFunction(
  source: FunctionSource,
  configEntry: string | undefined,
  externalPackages: readonly string[] = [],
): Promise<Bundle> {
  const external = esbuildExternals(externalPackages);
  if (source.kind === 'dir') {
    const dir = path.resolve(source.dir);
    const entry = await pickEntry(source.entry ?? configEntry, (p) => isFile(path.join(dir, p)));
    return { ...(await buildPreferringCjs(dir, entry, { external }, externalPackages.length === 0)), entry };
  }
  const files = validateFiles(source.files);
  const entry = await pickEntry(source.entry ?? configEntry, async (p) => files.has(p));
  // os.tmpdir(), not somewhere under our data dir: esbuild looks for node_modules in every
  // parent, and Hearth's own must not leak in (confineTo() also guards this).
  const dir = await realpath(await mkdtemp(path.join(os.tmpdir(), 'hearth-build-')));
  try {
    for (const [rel, content] of files) {
      const file = path.join(dir, rel);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, content);
    }
    const extra = { external, plugins: [confineTo(dir)] };
    return { ...(await buildPreferringCjs(dir, entry, extra, externalPackages.length === 0)), entry };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The source as the layer-file rules read it: the folder itself, or the deploy's file map. */
export function sourceHost(source: FunctionSource): SourceHost {
  return source.kind === 'dir' ? new DiskHost(path.resolve(source.dir)) : new MapHost(validateFiles(source.files));
}

async function pickEntry(requested: string | undefined, exists: (p: string) => Promise<boolean>): Promise<string> {
  if (requested !== undefined) {
    const entry = userPath(requested, 'entry');
    if (!(await exists(entry))) throw new BuildError(`entry ${JSON.stringify(requested)} not found`);
    return entry;
  }
  for (const candidate of DEFAULT_ENTRIES) if (await exists(candidate)) return candidate;
  throw new BuildError(`no entry file: set "entry" or add one of ${DEFAULT_ENTRIES.join(', ')}`);
}

type BuildOptions = esbuild.BuildOptions & { write: false };

/**
 * CommonJS when the code allows it: node loads a .cjs bundle without its ES module loader (~5 ms
 * of every cold start, measured). An ES module when the code needs one: top-level await fails the
 * CommonJS build, `import.meta` would be empty there, and an `external` package may be ESM-only,
 * which require() cannot load on node 20. A real `import()` left in the output (of a node
 * built-in: bundled ones become require calls) makes an ES module too: the agent compiles a
 * CommonJS bundle through vm.Script for its code cache, and node 20 loses a cached Script's
 * `import()` support. The ESM build reports the code's own errors.
 */
async function buildPreferringCjs(dir: string, entry: string, extra: Pick<esbuild.BuildOptions, 'external' | 'plugins'>, cjsAllowed: boolean): Promise<{ code: Uint8Array; format: BundleFormat }> {
  if (cjsAllowed) {
    const cjs = await esbuild.build({ ...nodeBundleOptions(dir, entry, { format: 'cjs' }), ...extra, metafile: true }).catch((err: unknown) => {
      if (isBuildFailure(err)) return undefined;
      throw err;
    });
    if (cjs && !cjs.warnings.some((w) => w.id === 'empty-import-meta') && !hasDynamicImport(cjs.metafile)) return { code: onlyOutput(cjs), format: 'cjs' };
  }
  return { code: await run({ ...nodeBundleOptions(dir, entry), ...extra }), format: 'esm' };
}

function hasDynamicImport(metafile: esbuild.Metafile): boolean {
  return Object.values(metafile.outputs).some((out) => out.imports.some((i) => i.kind === 'dynamic-import'));
}

async function run(options: BuildOptions): Promise<Uint8Array> {
  try {
    return onlyOutput(await esbuild.build(options));
  } catch (err) {
    if (isBuildFailure(err)) throw new BuildError(formatMessages(err.errors));
    throw err;
  }
}

function onlyOutput(result: esbuild.BuildResult<BuildOptions>): Uint8Array {
  const [out] = result.outputFiles;
  if (!out || result.outputFiles.length !== 1) throw new Error(`esbuild produced ${result.outputFiles.length} files`);
  return out.contents;
}

/**
 * Fails any import that resolves outside `root` (a bare import found in some parent's
 * node_modules, or "../../etc/x"), with esbuild's own wording. Node built-ins stay external.
 */
function confineTo(root: string): Plugin {
  const again = Symbol('hearth-confine');
  return {
    name: 'hearth-confine',
    setup(build) {
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (args.pluginData === again) return undefined;
        const result = await build.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          namespace: args.namespace,
          with: args.with,
          pluginData: again,
        });
        if (result.errors.length > 0 || result.external) return result;
        if (result.namespace === 'file' && !isInside(root, result.path)) {
          return { errors: [{ text: `Could not resolve "${args.path}"` }] };
        }
        return result;
      });
    },
  };
}

function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

async function isFile(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isFile(),
    () => false,
  );
}
