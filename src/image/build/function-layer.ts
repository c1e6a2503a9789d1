import type { FunctionConfig } from '../../config/index.ts';
import { canonicalJson } from '../json.ts';
import type { TarEntry } from './tar.ts';

/** Where the agent finds the function: the bundle and its config, both at fixed paths. */
export const FUNCTION_BUNDLE_PATH = '/function/index.mjs';
export const FUNCTION_CONFIG_PATH = '/function/hearth.json';

/**
 * The function layer: its bundle and its config. The image's name wins over a `name` in the
 * config, so hearth.json always says which function this image is.
 */
export function functionLayerEntries(name: string, bundle: Uint8Array, config: FunctionConfig): TarEntry[] {
  return [
    { type: 'dir', path: '/function', mode: 0o755 },
    { type: 'file', path: FUNCTION_BUNDLE_PATH, mode: 0o644, content: bundle },
    { type: 'file', path: FUNCTION_CONFIG_PATH, mode: 0o644, content: Buffer.from(`${canonicalJson({ ...config, name })}\n`) },
  ];
}
