import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHearth, type TestHearth } from '../helpers/hearth.ts';
import { containerLeftovers, waitFor } from '../helpers/host.ts';

interface StemCell {
  id: string;
  state: 'ready' | 'starting';
}

let h: TestHearth;

beforeAll(async () => {
  // Cells of 96 MB: every function here that a cell serves says so (the default is 128).
  h = await startHearth({ env: { HEARTH_STEM_CELLS: '2', HEARTH_STEM_CELL_MEMORY_MB: '96' } });
});

afterAll(async () => {
  await h?.close();
});

async function readyStemCells(): Promise<string[]> {
  const cells = (await h.api('GET', '/v1/pool')).body.stemCells as StemCell[];
  return cells.filter((c) => c.state === 'ready').map((c) => c.id);
}

async function containerOf(fn: string): Promise<{ id: string; fromStemCell: boolean }> {
  const all = (await h.api('GET', '/v1/pool')).body.containers as { id: string; function: string; fromStemCell: boolean }[];
  const mine = all.filter((c) => c.function === fn);
  expect(mine).toHaveLength(1);
  return mine[0]!;
}

/** Reports what a function can see of its container. */
const inspector = (marker: string) => `
import fs from 'node:fs';
const MARKER = ${JSON.stringify(marker)};
export default (_event, context) => {
  const ls = (p) => { try { return fs.readdirSync(p); } catch { return null; } };
  const files = ls('/tmp/.hearth-function') ?? [];
  return {
    marker: MARKER,
    secret: process.env.SECRET ?? null,
    fn: process.env.HEARTH_FUNCTION,
    version: process.env.HEARTH_VERSION,
    rootFunctionDir: ls('/function'),
    tmp: ls('/tmp'),
    memory: [process.env.HEARTH_MEMORY_MB, process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, context.memoryLimitInMB],
    modules: Object.keys(require.cache),
    files: files.sort(),
    code: files.map((f) => fs.readFileSync('/tmp/.hearth-function/' + f, 'utf8')).join('\\n'),
    environ: fs.readFileSync('/proc/1/environ', 'utf8') + fs.readFileSync('/proc/self/environ', 'utf8'),
  };
};`;

describe('stem cells', () => {
  it('keeps HEARTH_STEM_CELLS generic containers ready', async () => {
    await waitFor(async () => (await readyStemCells()).length === 2, 20_000);
  });

  it('serves a first invoke from a stem cell specialized with the code, env and memory limit', async () => {
    await waitFor(async () => (await readyStemCells()).length === 2, 20_000);
    const before = await readyStemCells();
    await h.deploy('stem-one', inspector('ONE-MARKER'), { env: { SECRET: 'one-secret' }, memoryMb: 96 });
    const res = await h.invoke('stem-one', {});
    expect(res.status).toBe(200);
    expect(res.headers.get('x-hearth-cold-start')).toBe('true');
    // A ready stem cell is taken straight away, without a trip through the queue; the call still has its record.
    expect(res.headers.get('x-hearth-dispatch')).toBe('direct');
    const id = res.headers.get('x-hearth-invocation-id')!;
    await waitFor(async () => (await h.api('GET', `/v1/invocations/${id}`)).body?.status === 'succeeded', 5_000);
    expect((await h.api('GET', `/v1/invocations/${id}`)).body).toMatchObject({ id, function: 'stem-one', trigger: 'sync', coldStart: true });
    expect(res.body).toMatchObject({ marker: 'ONE-MARKER', secret: 'one-secret', fn: 'stem-one', version: '1' });
    // The stem cell's rootfs is the base layer: no function code in it (at most an empty /function).
    expect(res.body.rootFunctionDir ?? []).toEqual([]);
    expect(res.body.files).toEqual(['hearth.json', 'index.cjs']);
    // The function's limit, not the cell's (512 MiB), wherever Lambda-style code reads it.
    expect(res.body.memory).toEqual(['96', '96', '96']);
    // The cell's rehearsal (its agent ran a no-op function before it said ready) left nothing.
    expect(res.body.tmp).toEqual(['.hearth-function']);
    expect(res.body.modules.filter((m: string) => m.includes('rehearsal'))).toEqual([]);

    const c = await containerOf('stem-one');
    expect(c.fromStemCell).toBe(true);
    expect(before).toContain(c.id);
    const limit = await readFile(`/sys/fs/cgroup/memory/hearth/${h.hearth.instance}/${c.id}/memory.limit_in_bytes`, 'utf8');
    expect(Number(limit)).toBe(96 * 2 ** 20);
    // Replenished in the background, with a new cell; the used one is not among them.
    await waitFor(async () => (await readyStemCells()).length === 2, 20_000);
    expect(await readyStemCells()).not.toContain(c.id);
    // Warm from now on.
    expect((await h.invoke('stem-one', {})).headers.get('x-hearth-cold-start')).toBe('false');
  });

  it('specializes a function whose code needs an ES module (top-level await) from its index.mjs', async () => {
    await waitFor(async () => (await readyStemCells()).length === 2, 20_000);
    await h.deploy('stem-esm', `import fs from 'node:fs';\nconst answer = await Promise.resolve(42);\nexport default () => ({ answer, files: fs.readdirSync('/tmp/.hearth-function').sort() });`, { memoryMb: 96 });
    const res = await h.invoke('stem-esm', {});
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ answer: 42, files: ['hearth.json', 'index.mjs'] });
    expect((await containerOf('stem-esm')).fromStemCell).toBe(true);
  });

  it('never lets one function see another function\'s code or secrets', async () => {
    await waitFor(async () => (await readyStemCells()).length === 2, 20_000);
    await h.deploy('stem-two', inspector('TWO-MARKER'), { memoryMb: 96 });
    const res = await h.invoke('stem-two', {});
    expect(res.status).toBe(200);
    expect((await containerOf('stem-two')).fromStemCell).toBe(true);
    expect(res.body.marker).toBe('TWO-MARKER');
    expect(res.body.secret).toBeNull();
    expect(res.body.code).not.toContain('ONE-MARKER');
    expect(res.body.environ).not.toContain('one-secret');
    expect(res.body.fn).toBe('stem-two');
  });

  it('destroys a specialized stem cell when its function moves on; it never returns to the stem cells', async () => {
    const used = await containerOf('stem-one');
    await h.deploy('stem-one', inspector('ONE-V2'), { env: { SECRET: 'one-secret' }, memoryMb: 96 });
    await waitFor(async () => (await containerLeftovers(h, used.id)).length === 0, 10_000);
    expect(await readyStemCells()).not.toContain(used.id);
    const res = await h.invoke('stem-one', {});
    expect(res.body.marker).toBe('ONE-V2');
  });

  it('a function that fails to load in a stem cell is a function_error, and the cell is discarded', async () => {
    await waitFor(async () => (await readyStemCells()).length === 2, 20_000);
    const before = await readyStemCells();
    await h.deploy('stem-broken', 'throw new Error("broken at load"); export default () => 1;', { memoryMb: 96 });
    const res = await h.invoke('stem-broken', {});
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('function_error');
    expect(res.body.error.message).toMatch(/broken at load/);
    // The cell that saw the broken code is gone for good, and a new one took its place.
    let used: string[] = [];
    await waitFor(async () => {
      const now = await readyStemCells();
      used = before.filter((id) => !now.includes(id));
      return now.length === 2 && used.length === 1;
    }, 20_000);
    await waitFor(async () => (await containerLeftovers(h, used[0]!)).length === 0, 10_000);
  });

  it('holds a specialized cell to the function\'s memoryMb: 128 MB in a 96 MB function is out_of_memory', async () => {
    await waitFor(async () => (await readyStemCells()).length === 2, 20_000);
    await h.deploy('stem-hungry', 'export default () => { const keep = []; for (let i = 0; i < 16; i++) keep.push(Buffer.alloc(8 << 20, 1)); return keep.length; }', { memoryMb: 96 });
    const res = await h.invoke('stem-hungry', {});
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('out_of_memory');
  });

  it('gives a function the V8 heap a cold start gives it; a function of another memoryMb starts cold from its own image', async () => {
    await waitFor(async () => (await readyStemCells()).length === 2, 20_000);
    const heap = 'import v8 from "node:v8"; export default () => v8.getHeapStatistics().heap_size_limit;';
    // minWarm containers start from the function's image, never from a cell.
    await h.deploy('heap-cold', heap, { memoryMb: 96, minWarm: 1 });
    await waitFor(async () => (await h.api('GET', '/v1/pool')).body.containers.some((c: { function: string; state: string }) => c.function === 'heap-cold' && c.state === 'idle'), 20_000);
    await h.deploy('heap-cell', heap, { memoryMb: 96 });
    const [cold, cell] = [await h.invoke('heap-cold', {}), await h.invoke('heap-cell', {})];
    expect((await containerOf('heap-cold')).fromStemCell).toBe(false);
    expect((await containerOf('heap-cell')).fromStemCell).toBe(true);
    // Old space 75 % of 96 MB, plus the young generation: what node was told when it started.
    expect(cell.body).toBe(cold.body);

    for (const [name, memoryMb] of [['stem-big', 1024], ['stem-small', 64]] as const) {
      await h.deploy(name, 'export default () => 1', { memoryMb });
      expect((await h.invoke(name, {})).status).toBe(200);
      expect((await containerOf(name)).fromStemCell).toBe(false);
    }
  });
});
