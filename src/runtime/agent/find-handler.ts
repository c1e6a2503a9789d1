/**
 * Which kind of function a loaded module is. Pure (the agent bundle inlines it).
 *
 * - `hearth`: a default-exported function (Hearth's own contract).
 * - `lambda`: a `handler` export, from ESM (`export const handler`) or CommonJS
 *   (`exports.handler`, `module.exports.handler`: esbuild turns module.exports into the default
 *   export of the ESM bundle).
 * - `openwhisk`: a `main(params)` action (`exports.main`, `export function main`).
 * - `fetch`: a default export with `fetch()` (Workers, Hono apps).
 */
import type { EventHandler } from './call-handler.ts';
import type { FunctionContext } from './context.ts';

export type FetchHandler = (request: Request, env: Record<string, string>, ctx: FunctionContext) => Response | Promise<Response>;
export type HandlerStyle = 'hearth' | 'lambda' | 'openwhisk';
export type Loaded = { kind: 'event'; style: HandlerStyle; handler: EventHandler } | { kind: 'fetch'; fetch: FetchHandler };

export const NO_HANDLER_HINT =
  'expected a default-exported function, a "handler" export (ESM or CommonJS), a "main" export, or a default export with fetch()';

/**
 * A CommonJS bundle's exports as the namespace an import gives: esbuild's bundle of an ES module
 * marks itself `__esModule` and carries the exports by name; anything else (a CommonJS entry's
 * `module.exports`) is the default export, as in the ES module bundles Hearth made before.
 */
export function moduleNamespace(exports: unknown): Record<string, unknown> {
  const marked = exports !== null && typeof exports === 'object' && (exports as { __esModule?: unknown }).__esModule === true;
  return marked ? (exports as Record<string, unknown>) : { default: exports };
}

export function findHandler(mod: Record<string, unknown>): Loaded | null {
  const def = mod.default as Record<string, unknown> | ((...a: unknown[]) => unknown) | undefined;
  const obj = def && typeof def === 'object' ? def : undefined;
  if (typeof def === 'function') return { kind: 'event', style: 'hearth', handler: def as EventHandler };
  if (typeof mod.handler === 'function') return { kind: 'event', style: 'lambda', handler: mod.handler as EventHandler };
  if (obj && typeof obj.handler === 'function') return { kind: 'event', style: 'lambda', handler: obj.handler as EventHandler };
  if (obj && typeof obj.fetch === 'function') {
    // Bound: a Hono app's fetch relies on `this`.
    return { kind: 'fetch', fetch: (obj.fetch as FetchHandler).bind(obj) };
  }
  if (typeof mod.main === 'function') return { kind: 'event', style: 'openwhisk', handler: mod.main as EventHandler };
  if (obj && typeof obj.main === 'function') return { kind: 'event', style: 'openwhisk', handler: obj.main as EventHandler };
  return null;
}
