import type { FunctionConfig } from '../../config/index.ts';
import { canonicalJson } from '../json.ts';
import type { HostFile } from './source-host.ts';
import type { TarEntry } from './tar.ts';
import type { BundleFormat } from './esbuild-options.ts';

/** The function's folder in the image: the bundle, its config and the files beside them. */
export const FUNCTION_DIR = '/function';

/**
 * Where the agent finds the function: the bundle, whose extension says how node loads it
 * (CommonJS or an ES module), and its config, at fixed paths.
 */
export const FUNCTION_BUNDLE_PATHS: Record<BundleFormat, string> = { cjs: '/function/index.cjs', esm: '/function/index.mjs' };
export const FUNCTION_CONFIG_PATH = '/function/hearth.json';

/** The bundled code and how node loads it. */
export interface FunctionBundle {
  code: Uint8Array;
  format: BundleFormat;
}

/**
 * The function layer: its bundle, its config and the files beside them (assets, `external`
 * packages) at their paths relative to the function's folder, so `__dirname` and
 * `import.meta.url` of the bundle find them where they were. The image's name wins over a `name`
 * in the config, so hearth.json always says which function this image is.
 */
export function functionLayerEntries(name: string, bundle: FunctionBundle, config: FunctionConfig, files: readonly HostFile[] = []): TarEntry[] {
  return [
    { type: 'dir', path: FUNCTION_DIR, mode: 0o755 },
    ...files.map((f): TarEntry => ({ type: 'file', path: `${FUNCTION_DIR}/${f.rel}`, mode: f.executable ? 0o755 : 0o644, content: f.content })),
    { type: 'file', path: FUNCTION_BUNDLE_PATHS[bundle.format], mode: 0o644, content: bundle.code },
    { type: 'file', path: FUNCTION_CONFIG_PATH, mode: 0o644, content: Buffer.from(`${canonicalJson({ ...config, name })}\n`) },
  ];
}
