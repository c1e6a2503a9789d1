import path from 'node:path';
import { BuildError } from '../errors.ts';
import type { HostFile, SourceHost } from './source-host.ts';

/** npm's rule for a package name ("ms", "@scope/pkg"); it becomes a path in the layer. */
const PACKAGE_NAME = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/i;

/** What esbuild must leave alone for `external` packages: the package and any subpath of it. */
export function esbuildExternals(names: readonly string[]): string[] {
  return names.flatMap((n) => [n, `${n}/*`]);
}

interface FoundPackage {
  name: string;
  dir: string;
}

/**
 * The files of the `external` packages and everything they depend on, as the layer holds them
 * under `node_modules/` beside the bundle, so node finds them from /function/index.mjs as it
 * would on the developer's machine. Packages are looked up as node does (the folder's
 * node_modules, then its parents'); a package found inside another one's folder travels with it,
 * every other one goes to the top of the layer's node_modules.
 */
export async function externalPackageFiles(host: SourceHost, names: readonly string[]): Promise<HostFile[]> {
  const found: FoundPackage[] = [];
  const seenDirs = new Set<string>();
  const queue: { name: string; from: string; optional: boolean; wantedBy: string }[] = names.map((name) => {
    if (!PACKAGE_NAME.test(name)) throw new BuildError(`external: ${JSON.stringify(name)} is not a package name`);
    return { name, from: host.root, optional: false, wantedBy: 'hearth.json "external"' };
  });
  while (queue.length > 0) {
    const next = queue.shift()!;
    const dir = await resolvePackageDir(host, next.name, next.from);
    if (dir === undefined) {
      if (next.optional) continue;
      throw new BuildError(`external package ${JSON.stringify(next.name)} (wanted by ${next.wantedBy}) is not installed: run npm install in the function's folder`);
    }
    if (seenDirs.has(dir)) continue;
    seenDirs.add(dir);
    found.push({ name: next.name, dir });
    const manifest = await readManifest(host, dir);
    for (const dep of Object.keys(manifest.dependencies ?? {})) queue.push({ name: dep, from: dir, optional: false, wantedBy: next.name });
    for (const dep of Object.keys(manifest.optionalDependencies ?? {})) queue.push({ name: dep, from: dir, optional: true, wantedBy: next.name });
  }

  const files: HostFile[] = [];
  const placed = new Map<string, string>();
  for (const pkg of found) {
    // Nested in another package's own node_modules: copied with that package.
    if (found.some((other) => other !== pkg && pkg.dir.startsWith(`${other.dir}/`))) continue;
    const earlier = placed.get(pkg.name);
    if (earlier !== undefined) {
      throw new BuildError(`external: two copies of ${pkg.name} are needed (${earlier} and ${pkg.dir}); deduplicate them (npm dedupe) first`);
    }
    placed.set(pkg.name, pkg.dir);
    for (const f of await host.list(pkg.dir)) files.push({ ...f, rel: `node_modules/${pkg.name}/${f.rel}` });
  }
  return files;
}

async function resolvePackageDir(host: SourceHost, name: string, from: string): Promise<string | undefined> {
  for (let dir = from; ; dir = path.posix.dirname(dir)) {
    // node never looks in node_modules/node_modules.
    if (path.posix.basename(dir) !== 'node_modules') {
      const candidate = path.posix.join(dir, 'node_modules', name);
      if (await host.isDir(candidate)) return candidate;
    }
    if (dir === path.posix.dirname(dir)) return undefined;
  }
}

interface PackageManifest {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

async function readManifest(host: SourceHost, dir: string): Promise<PackageManifest> {
  const text = await host.readText(path.posix.join(dir, 'package.json'));
  if (text === undefined) return {};
  try {
    return JSON.parse(text) as PackageManifest;
  } catch {
    throw new BuildError(`${dir}/package.json is not valid JSON`);
  }
}
