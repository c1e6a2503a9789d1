import type * as esbuild from 'esbuild';

/**
 * ESM output may contain CommonJS dependencies that call require(); give them one. Prepended as
 * raw text, so it must appear once per final bundle: a bundle that will be bundled again (the
 * CLI's, which the server re-bundles) goes without it.
 */
export const REQUIRE_BANNER =
  "import { createRequire as __hearthCreateRequire } from 'module'; const require = __hearthCreateRequire(import.meta.url);";

export interface NodeBundleOptions {
  /** Prepend REQUIRE_BANNER (ESM only). Default true; false only for a bundle that is bundled again later. */
  requireShim?: boolean;
  /** Default 'esm'; CommonJS output has node's own `require` and no shim. */
  format?: BundleFormat;
}

export type BundleFormat = 'esm' | 'cjs';

/** ES modules are strict code; their CommonJS bundle stays so (esbuild adds no directive). */
const STRICT_BANNER = "'use strict';";

/**
 * The one definition of how Hearth bundles for node: the server (function images), the agent
 * and the CLI (local pre-bundle) all build one file for node 20 (ESM, or CommonJS for the
 * agent), readable and deterministic, with only node built-ins external (a container has no
 * node_modules).
 */
export function nodeBundleOptions(
  absWorkingDir: string,
  entry: string,
  opts: NodeBundleOptions = {},
): esbuild.BuildOptions & { write: false } {
  return {
    absWorkingDir,
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: opts.format ?? 'esm',
    write: false,
    logLevel: 'silent',
    minify: false,
    sourcemap: false,
    ...(opts.format === 'cjs' ? { banner: { js: STRICT_BANNER } } : opts.requireShim === false ? {} : { banner: { js: REQUIRE_BANNER } }),
  };
}

/** "index.ts:2:12: Unexpected \";\"" plus the offending line: enough to fix it from an HTTP reply. */
export function formatMessages(messages: readonly esbuild.Message[]): string {
  const shown = messages.slice(0, 10).map((m) => {
    const loc = m.location;
    if (!loc) return m.text;
    return `${loc.file}:${loc.line}:${loc.column}: ${m.text}\n    ${loc.lineText}`;
  });
  if (messages.length > shown.length) shown.push(`… and ${messages.length - shown.length} more errors`);
  return shown.join('\n');
}

/** esbuild rejects with a BuildFailure carrying structured messages when the code is at fault. */
export function isBuildFailure(err: unknown): err is esbuild.BuildFailure {
  return err instanceof Error && Array.isArray((err as Partial<esbuild.BuildFailure>).errors);
}
