/**
 * The V8 code cache of a CommonJS bundle. Compiling a big bundle (hono + zod: ~800 KB) is most of
 * its load: with a cache made from an earlier load, V8 skips parsing and compiling what it
 * compiled then (measured on these machines: module load 30–45 ms → ~15 ms, first call ~35 →
 * ~26 ms). The function's first container on a node makes the cache after its first invocation
 * and sends it to the host; later containers of the same version get it as their first message.
 * V8 checks a cache against its own version, flags and the source's length, and rejects one that
 * does not fit: the bundle is then compiled as usual, and a new cache made. (The host keys caches
 * by image digest: a cache never meets other code of the same length.)
 *
 * A cache is only ever used by containers of the function version whose container made it, so
 * bytes from a container never reach another function.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Script } from 'node:vm';

/** What the host's spec asks of the agent (`--code-cache=…` after its path). */
export type CodeCacheMode = 'follows' | 'upgrade' | 'produce' | 'compile';

/** Caches larger than this are not sent (the channel's frames are capped at 32 MB, base64 grows 4/3). */
export const MAX_CODE_CACHE_BYTES = 16 * 1024 * 1024;

const MODES: readonly CodeCacheMode[] = ['follows', 'upgrade', 'produce', 'compile'];

/**
 * `follows`: a `code_cache` message is the host's first; `upgrade`: one follows, but of compiled
 * code only: make a fuller one after the first invocation; `produce`: there is none yet, make one
 * after the first invocation; `compile`: only compile the bundle (never run it), send its cache and
 * report ready (the runtime makes a cache ahead of a version's first start this way).
 */
export function codeCacheMode(argv: readonly string[]): CodeCacheMode | undefined {
  for (const arg of argv) {
    const mode = MODES.find((m) => arg === `--code-cache=${m}`);
    if (mode) return mode;
  }
  return undefined;
}

/** Node's CommonJS wrapper, on the bundle's first line: line numbers in stack traces stay right. */
const WRAPPER_HEAD = '(function (exports, require, module, __filename, __dirname) { ';
const WRAPPER_TAIL = '\n})';

const wrapped = (source: string): string => WRAPPER_HEAD + source + WRAPPER_TAIL;

/** Compiles the bundle without running any of it: the cache of its top level (V8 compiles the rest lazily). */
export function compileCommonJs(entry: string, source: string): Script {
  return new Script(wrapped(source), { filename: entry });
}

/**
 * Runs the bundle as node would require it, compiled through a Script that can use and make a
 * code cache. Returns its `module.exports` and the Script. Such a Script has no `import()`
 * (node 20 loses its loader in code from a cache): the image build makes a bundle that has one
 * an ES module, which is imported as before.
 */
export function runCommonJs(entry: string, source: string, cachedData?: Buffer): { exports: unknown; script: Script } {
  const script = new Script(wrapped(source), { filename: entry, ...(cachedData ? { cachedData } : {}) });
  const wrapper = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: unknown, filename: string, dirname: string) => void;
  const require = createRequire(entry);
  const module = { id: entry, filename: entry, path: dirname(entry), exports: {} as unknown, loaded: false, children: [], paths: [], require };
  wrapper.call(module.exports, module.exports, require, module, entry, dirname(entry));
  module.loaded = true;
  return { exports: module.exports, script };
}

/** The cache of everything the Script compiled so far (its top level and the functions that ran); undefined when too large. */
export function makeCodeCache(script: Script): Buffer | undefined {
  const data = script.createCachedData();
  return data.length <= MAX_CODE_CACHE_BYTES ? data : undefined;
}
