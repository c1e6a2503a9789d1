import { checkAssetBytes, IGNORE_FILE, selectAssets } from './asset-rules.ts';
import { externalPackageFiles } from './external-packages.ts';
import type { HostFile, SourceHost } from './source-host.ts';

export interface LayerFileConfig {
  /** hearth.json `files` globs. */
  files?: readonly string[] | undefined;
  /** hearth.json `external` package names. */
  external?: readonly string[] | undefined;
}

/** Never walked for assets: installed packages come only through `external`, and history never. */
const NOT_WALKED = new Set(['node_modules', '.git']);

/**
 * Everything a function's layer holds beside its bundle: the folder's assets (see asset-rules.ts)
 * and its `external` packages under node_modules/, at most `limitBytes` together.
 */
export async function functionLayerFiles(host: SourceHost, config: LayerFileConfig, limitBytes: number): Promise<HostFile[]> {
  const [listed, ignore, external] = await Promise.all([
    host.list(host.root, NOT_WALKED),
    host.readText(`${host.root.replace(/\/+$/, '')}/${IGNORE_FILE}`),
    config.external && config.external.length > 0 ? externalPackageFiles(host, config.external) : Promise.resolve([]),
  ]);
  const byPath = new Map(listed.map((f) => [f.rel, f]));
  const chosen = selectAssets([...byPath.keys()], { include: config.files, ignore }).map((rel) => byPath.get(rel)!);
  const all = [...chosen, ...external];
  checkAssetBytes(all.map((f) => ({ path: f.rel, size: f.size })), limitBytes);
  return all;
}
