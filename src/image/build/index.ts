/**
 * Building function images: esbuild bundle → OCI layers. Exported here: how Hearth bundles for
 * node and which entry files it looks for, so the CLI's local pre-bundle matches the server's.
 */
export { DEFAULT_ENTRIES } from './source-files.ts';
export { agentBundleOptions } from './base-layer.ts';
export { AGENT_BUNDLE_PATH } from './agent-path.ts';
export { NODE_PRELOAD_PATH, NODE_PRELOAD_SOURCE } from './node-preload.ts';
export { REQUIRE_BANNER, formatMessages, isBuildFailure, nodeBundleOptions } from './esbuild-options.ts';
export type { NodeBundleOptions } from './esbuild-options.ts';
export { DEFAULT_MAX_ASSET_BYTES, IGNORE_FILE, isDefaultAsset, maxAssetBytes, selectAssets, checkAssetBytes } from './asset-rules.ts';
export type { AssetRules } from './asset-rules.ts';
export { functionLayerFiles } from './layer-files.ts';
export type { LayerFileConfig } from './layer-files.ts';
export { DiskHost } from './source-host.ts';
export type { HostFile, SourceHost } from './source-host.ts';
