/** Where the base layer puts NODE_PRELOAD_SOURCE; the runtime passes it to node with `--require`. */
export const NODE_PRELOAD_PATH = '/hearth/code-cache.cjs';

/**
 * Node 20 (up to 20.20.2) rejects its built-in code cache when any V8 flag differs from the
 * default, and the container's node gets `--max-old-space-size`: every core module the agent
 * loads is then compiled from source (~15 ms of CPU a start, measured). V8 reads the heap limit
 * once, when the isolate is created; setting the flag back to its default right after that keeps
 * the limit and makes the cache valid again for everything loaded later. `process.binding` is
 * used because `require('v8')` alone would pull in some twenty core modules before the reset;
 * its deprecation warning is silenced for this one call only.
 */
export const NODE_PRELOAD_SOURCE = `'use strict';
const quiet = process.noDeprecation;
process.noDeprecation = true;
try {
  process.binding('v8').setFlagsFromString('--max-old-space-size=0');
} catch {
  // An unexpected node: it only costs the cache, never the start.
} finally {
  process.noDeprecation = quiet;
}
`;
