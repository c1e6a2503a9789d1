/** Integration: the V8 code cache of a CommonJS bundle, made in one container and used by the next (real runc). */
import { readdirSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime, type Container, type ContainerOptions } from '../../src/runtime/index.ts';
import { baseLayer, functionLayer, tempStateDir, testInstance } from './fixtures.ts';
import { canRunContainers, waitFor } from '../helpers/host.ts';

const SQUARE = `'use strict';
function square(n) { return n * n; }
module.exports = async (event) => {
  if (event.fail) throw new Error('failed on purpose');
  return { squared: square(event.n), file: __filename };
};
`;
const CUBE = SQUARE.replace('return n * n;', 'return n * n * n;');
const DYNAMIC_IMPORT = `export default async () => ({ cpus: (await import('node:os')).cpus().length > 0 });
`;

describe.skipIf(!canRunContainers)('V8 code cache of a function bundle (real runc)', () => {
  const instance = testInstance();
  let stateDir: string;
  let runtime: Runtime;
  let seq = 0;
  /** Cache files of the tests before. */
  const known = new Set<string>();

  const start = async (source: string, over: Partial<ContainerOptions> = {}): Promise<Container> =>
    runtime.createContainer({
      id: `cc${++seq}`,
      layerDirs: over.layerDirs ?? [await functionLayer(source, 'index.cjs'), await baseLayer()],
      memoryMb: 128,
      env: {},
      hostname: 'cc',
      functionName: 'cc',
      version: 1,
      ...over,
    });
  const invoke = (c: Container, event: unknown) => c.invoke({ invocationId: `inv-${++seq}`, event, deadline: Date.now() + 10_000 });
  const cacheFiles = (): string[] => {
    try {
      return readdirSync(join(stateDir, 'code-cache')).filter((n) => !n.startsWith('.'));
    } catch {
      return [];
    }
  };

  beforeAll(async () => {
    stateDir = await tempStateDir();
    runtime = new Runtime({ stateDir, instance });
    await runtime.start();
  });

  afterAll(async () => {
    await runtime?.close();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  it('the first container makes it after its first invocation; the next one of the same key loads with it', async () => {
    const first = await start(SQUARE, { codeCacheKey: 'square@1' });
    expect(first.codeCache).toBeUndefined();
    expect(cacheFiles()).toEqual([]);
    expect(await invoke(first, { n: 3 })).toMatchObject({ ok: true, result: { squared: 9, file: '/function/index.cjs' } });
    await waitFor(() => cacheFiles().length === 1, 5000);
    for (const n of cacheFiles()) known.add(n);
    await first.destroy();

    const second = await start(SQUARE, { codeCacheKey: 'square@1' });
    expect(second.codeCache).toBe('accepted');
    expect(await invoke(second, { n: 4 })).toMatchObject({ ok: true, result: { squared: 16 } });
    // The CommonJS wrapper shares the bundle's first line: a stack still names the source line.
    const failed = await invoke(second, { fail: true });
    expect(failed).toMatchObject({ ok: false, error: { code: 'function_error', message: 'failed on purpose' } });
    expect(failed.ok ? '' : failed.error.stack).toContain('/function/index.cjs:4:');
    await second.destroy();
  });

  it('a cache that does not fit the code is rejected: the container runs as usual and makes a new one', async () => {
    const first = await start(SQUARE, { codeCacheKey: 'shared@1' });
    await invoke(first, { n: 1 });
    await waitFor(() => cacheFiles().length === 2, 5000);
    await first.destroy();
    const file = join(stateDir, 'code-cache', cacheFiles().find((n) => !known.has(n))!);
    const made = statSync(file).mtimeMs;
    // Another bundle under the same key: V8 checks the source and refuses the cache.
    const other = await start(CUBE, { codeCacheKey: 'shared@1' });
    expect(other.codeCache).toBe('rejected');
    expect(await invoke(other, { n: 2 })).toMatchObject({ ok: true, result: { squared: 8 } });
    await waitFor(() => statSync(file).mtimeMs !== made, 5000);
    await other.destroy();
    const again = await start(CUBE, { codeCacheKey: 'shared@1' });
    expect(again.codeCache).toBe('accepted');
    expect(await invoke(again, { n: 3 })).toMatchObject({ ok: true, result: { squared: 27 } });
    await again.destroy();
  });

  it('an ES module bundle (what the build makes of code with import()) is imported as before: no cache', async () => {
    const files = cacheFiles().length;
    const layers = [await functionLayer(DYNAMIC_IMPORT), await baseLayer()];
    for (const id of ['esm1', 'esm2']) {
      const c = await start(SQUARE, { id, layerDirs: layers, codeCacheKey: 'esm@1' });
      expect(c.codeCache).toBeUndefined();
      expect(await invoke(c, {})).toMatchObject({ ok: true, result: { cpus: true } });
      await new Promise((r) => setTimeout(r, 200));
      await c.destroy();
    }
    expect(cacheFiles()).toHaveLength(files);
  });

  it('prepareCodeCache compiles a big bundle ahead in a container of its own; the first start loads with it', async () => {
    // ~80 KB of code: above the size worth a compile ahead.
    const big = `${SQUARE}${Array.from({ length: 1500 }, (_, i) => `function f${i}(x) { return x + ${i} * 2 - 1; }`).join('\n')}\n`;
    const layers = [await functionLayer(big, 'index.cjs'), await baseLayer()];
    const files = cacheFiles().length;
    runtime.prepareCodeCache({ key: 'big@1', layerDirs: layers, memoryMb: 128 });
    await waitFor(() => cacheFiles().length === files + 1, 10_000);
    // The compiling container is gone once its cache is stored.
    await waitFor(() => runtime.containers().length === 0, 5000);
    const compiled = cacheFiles().find((n) => n.endsWith('.compiled'));
    expect(compiled).toBeDefined();
    const first = await start(big, { layerDirs: layers, codeCacheKey: 'big@1' });
    expect(first.codeCache).toBe('accepted');
    expect(await invoke(first, { n: 6 })).toMatchObject({ ok: true, result: { squared: 36 } });
    // It held compiled code only: the first container replaces it with one made after its run.
    await waitFor(() => cacheFiles().includes(compiled!.replace(/\.compiled$/, '')) && !cacheFiles().includes(compiled!), 5000);
    await first.destroy();
    const second = await start(big, { layerDirs: layers, codeCacheKey: 'big@1' });
    expect(second.codeCache).toBe('accepted');
    await second.destroy();
    // The function is removed: its cache goes, and its next container (of a new function) starts without one.
    await runtime.discardCodeCache('big@1');
    expect(cacheFiles()).toHaveLength(files);
    const fresh = await start(big, { layerDirs: layers, codeCacheKey: 'big@1' });
    expect(fresh.codeCache).toBeUndefined();
    await invoke(fresh, { n: 1 });
    await waitFor(() => cacheFiles().length === files + 1, 5000);
    await fresh.destroy();

    // A small bundle compiles at its start about as fast as a cache loads: no compile ahead.
    runtime.prepareCodeCache({ key: 'small@1', layerDirs: [await functionLayer(CUBE, 'index.cjs'), await baseLayer()], memoryMb: 128 });
    await new Promise((r) => setTimeout(r, 500));
    expect(cacheFiles()).toHaveLength(files + 1);
  });

  it('a stem cell specialized with a key makes the cache after its first invocation; later cells and cold starts load with it', async () => {
    const source = SQUARE.replace('n * n', 'n * n + 0');
    const files = cacheFiles().length;
    const cell = async (): Promise<Container> => {
      const c = await start('', { layerDirs: [await baseLayer()] });
      await c.specialize({ functionName: 'cc', version: 1, files: { 'index.cjs': Buffer.from(source) }, env: {}, memoryMb: 128, codeCacheKey: 'stem@1' });
      return c;
    };
    const first = await cell();
    expect(first.codeCache).toBeUndefined();
    expect(await invoke(first, { n: 3 })).toMatchObject({ ok: true, result: { squared: 9, file: '/tmp/.hearth-function/index.cjs' } });
    await waitFor(() => cacheFiles().length === files + 1, 5000);
    await first.destroy();

    const second = await cell();
    expect(second.codeCache).toBe('accepted');
    expect(await invoke(second, { n: 4 })).toMatchObject({ ok: true, result: { squared: 16 } });
    const failed = await invoke(second, { fail: true });
    expect(failed.ok ? '' : failed.error.stack).toContain('/tmp/.hearth-function/index.cjs:4:');
    await second.destroy();

    // The same version started cold from its own image (its bundle at /function) takes the cell's cache.
    const cold = await start(source, { codeCacheKey: 'stem@1' });
    expect(cold.codeCache).toBe('accepted');
    expect(await invoke(cold, { n: 5 })).toMatchObject({ ok: true, result: { squared: 25, file: '/function/index.cjs' } });
    await cold.destroy();

    // Without a key a cell neither uses nor makes one.
    const plain = await start('', { layerDirs: [await baseLayer()] });
    await plain.specialize({ functionName: 'cc', version: 1, files: { 'index.cjs': Buffer.from(source) }, env: {}, memoryMb: 128 });
    expect(plain.codeCache).toBeUndefined();
    await invoke(plain, { n: 1 });
    await new Promise((r) => setTimeout(r, 300));
    expect(cacheFiles()).toHaveLength(files + 1);
    await plain.destroy();
  });

  it('without a key nothing is cached', async () => {
    const files = cacheFiles().length;
    const plain = await start(SQUARE);
    expect(await invoke(plain, { n: 5 })).toMatchObject({ ok: true, result: { squared: 25 } });
    await new Promise((r) => setTimeout(r, 300));
    expect(cacheFiles()).toHaveLength(files);
    await plain.destroy();
  });
});
