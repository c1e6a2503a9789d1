/**
 * Makes a function version's V8 code cache before its first start: a short-lived container of
 * its image compiles the bundle (never runs it) and sends the cache, which the version's first
 * cold start then loads with. Only for bundles big enough to gain (a small one compiles in about
 * the time its cache takes to read), one at a time, and never for a key that has a cache.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { CodeCacheStore } from './code-cache-store.ts';
import type { ContainerOptions } from './types.ts';

/** Bundles smaller than this are compiled at their start (hono + zod is ~800 KB; a no-op under 1 KB). */
export const MIN_PRECOMPILE_BYTES = 64 * 1024;
/** Versions waiting for their compile; more are dropped (their first container makes the cache). */
const MAX_WAITING = 16;

export interface PrecompileRequest {
  key: string;
  /** The image's layer dirs, top-most (the function layer) first. */
  layerDirs: string[];
  memoryMb: number;
}

export class CodeCachePrecompiler {
  private chain: Promise<void> = Promise.resolve();
  private readonly waiting = new Set<string>();
  private closed = false;

  constructor(
    private readonly deps: {
      store: CodeCacheStore;
      /** Starts the compiling container (ready once its cache was sent) and hands it over. */
      start: (opts: ContainerOptions) => Promise<{ destroy(reason?: string): Promise<void> }>;
      warn: (message: string) => void;
    },
  ) {}

  /** A hint: queues the compile if it is worth one; never fails. */
  request(r: PrecompileRequest): void {
    if (this.closed || this.waiting.has(r.key) || this.waiting.size >= MAX_WAITING) return;
    this.waiting.add(r.key);
    this.chain = this.chain.then(() => this.compile(r)).finally(() => this.waiting.delete(r.key));
  }

  /** Takes requests again (after close(), when the runtime starts again). */
  start(): void {
    this.closed = false;
  }

  /** No more compiles; waits for the one running. */
  async close(): Promise<void> {
    this.closed = true;
    await this.chain;
  }

  private async compile(r: PrecompileRequest): Promise<void> {
    if (this.closed || !(await worthIt(r.layerDirs[0])) || (await this.deps.store.has(r.key))) return;
    try {
      const c = await this.deps.start({
        id: `precompile-${randomBytes(6).toString('hex')}`,
        layerDirs: r.layerDirs,
        memoryMb: r.memoryMb,
        env: {},
        hostname: 'precompile',
        functionName: 'precompile',
        version: 0,
        codeCacheKey: r.key,
        codeCacheCompileOnly: true,
      });
      await c.destroy('code cache compiled');
    } catch (e) {
      // Closing stops a compile that was starting; anything else is worth a word.
      if (!this.closed) this.deps.warn(`compiling a code cache ahead: ${(e as Error).message}`);
    }
  }
}

async function worthIt(functionLayer: string | undefined): Promise<boolean> {
  if (!functionLayer) return false;
  const size = await stat(join(functionLayer, 'function/index.cjs')).then((s) => s.size, () => 0);
  return size >= MIN_PRECOMPILE_BYTES;
}
