/**
 * The agent's part in the code cache of its function's bundle (see code-cache.ts): waits for the
 * host's cache when one follows, hands it to the load, and makes one after the first invocation
 * when the host has none that V8 accepted.
 */
import { readFileSync } from 'node:fs';
import type { Script } from 'node:vm';
import { codeCacheMode, compileCommonJs, makeCodeCache, type CodeCacheMode } from './code-cache.ts';
import type { LoadedBundle } from './function-bundle.ts';

/** The host sends its cache right after starting the container; past this the load goes on without it. */
const FOLLOW_WAIT_MS = 2000;

export class BundleCodeCache {
  private currentMode: CodeCacheMode | undefined;
  /** What V8 made of the host's cache. */
  status: LoadedBundle['cache'];
  private arrived: Promise<Buffer | undefined>;
  private resolveArrived: (data: Buffer | undefined) => void = () => {};
  private script: Script | undefined;
  private made = false;

  constructor(
    argv: readonly string[],
    private readonly send: (base64: string) => void,
  ) {
    this.currentMode = codeCacheMode(argv);
    this.arrived =
      this.currentMode === 'follows' || this.currentMode === 'upgrade'
        ? new Promise((resolve) => {
            this.resolveArrived = resolve;
            setTimeout(() => resolve(undefined), FOLLOW_WAIT_MS).unref();
          })
        : Promise.resolve(undefined);
  }

  /** What the host asked for: at start (the agent's arguments), or a stem cell's at specialize. */
  get mode(): CodeCacheMode | undefined {
    return this.currentMode;
  }

  /**
   * A stem cell started with no cache mode (it had no code); its `specialize` message brings the
   * mode and the cache's bytes, if any. The cache is the one a start's first message would carry.
   */
  adopt(mode: Exclude<CodeCacheMode, 'compile'>, data: Buffer | undefined): void {
    if (this.currentMode !== undefined) return;
    this.currentMode = mode;
    this.arrived = Promise.resolve(mode === 'produce' ? undefined : data);
  }

  /** `compile` mode: the cache of the bundle's compiled (not run) code is sent; nothing is loaded. */
  get compileOnly(): boolean {
    return this.mode === 'compile';
  }

  /** Compiles a CommonJS bundle and sends its cache (an ES module bundle has none). */
  compileAndSend(entry: string, warn: (line: string) => void): void {
    if (!entry.endsWith('.cjs')) return;
    try {
      const data = makeCodeCache(compileCommonJs(entry, readFileSync(entry, 'utf8')));
      if (data) this.send(data.toString('base64'));
    } catch (e) {
      // A syntax error is the real start's to report; here it only means no cache.
      warn(`[hearth] no code cache: ${(e as Error).message}`);
    }
  }

  /** loadBundle's `codeCache` option: undefined when the host keeps no cache for this function. */
  async forLoad(): Promise<{ data?: Buffer } | undefined> {
    if (!this.currentMode) return undefined;
    const data = await this.arrived;
    return data ? { data } : {};
  }

  /** The host's `code_cache` message. */
  received(base64: string): void {
    this.resolveArrived(Buffer.from(base64, 'base64'));
  }

  loaded(bundle: LoadedBundle): void {
    this.script = bundle.script;
    this.status = bundle.cache;
  }

  /**
   * After an invocation's answer is sent: the first one makes the cache (it then holds what that
   * invocation compiled too), unless V8 accepted a host's cache made after a run.
   */
  invocationEnded(): void {
    const script = this.script;
    if (this.made || !script || (this.status === 'accepted' && this.currentMode !== 'upgrade')) return;
    this.made = true;
    setImmediate(() => {
      const data = makeCodeCache(script);
      if (data) this.send(data.toString('base64'));
    });
  }
}
