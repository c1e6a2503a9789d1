/** Integration: real runc containers running the agent, driven through the public Runtime API. */
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime, type Container, type ContainerOptions, type InvokeOutcome } from '../../src/runtime/index.ts';
import { mknod, setOpaque } from '../../src/image/unpack/special-files.ts';
import { baseLayer, functionLayer, layersFor, tempStateDir, testInstance } from './fixtures.ts';
import { FETCH_ONLY, NAMED_HANDLER, NO_HANDLER, PROBE, SLOW_IMPORT, THROWS_AT_IMPORT } from './functions.ts';
import { canRunContainers, cgroupDirsOf, layerBindsBase, mountsBelow, rootfsMountPoint, runcIds, spawnerPids } from '../helpers/host.ts';

describe.skipIf(!canRunContainers)('runtime containers (real runc)', () => {
  const instance = testInstance();
  let stateDir: string;
  let runtime: Runtime;
  let probeLayers: string[];
  let seq = 0;

  const create = async (over: Partial<ContainerOptions> = {}, layers = probeLayers): Promise<Container> =>
    runtime.createContainer({
      id: `c${++seq}`,
      layerDirs: layers,
      memoryMb: 128,
      env: { A: 'from-user' },
      hostname: 'probe-host',
      functionName: 'probe',
      version: 7,
      ...over,
    });

  const invoke = (c: Container, event: unknown, timeoutMs = 10_000): Promise<InvokeOutcome> =>
    c.invoke({ invocationId: `inv-${++seq}`, event, deadline: Date.now() + timeoutMs });

  let warm: Container;
  /** State dirs and empty layers of single tests: removed with the shared one. */
  const scratch: string[] = [];
  const scratchDir = async (): Promise<string> => {
    const dir = await tempStateDir();
    scratch.push(dir);
    return dir;
  };

  beforeAll(async () => {
    stateDir = await tempStateDir();
    runtime = new Runtime({ stateDir, instance });
    await runtime.start();
    probeLayers = await layersFor(PROBE);
    warm = await create();
  });

  afterAll(async () => {
    await runtime?.close();
    expect(cgroupDirsOf(instance)).toEqual([]);
    expect(spawnerPids(instance)).toEqual([]);
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
    await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('returns the function result and passes ctx and env', async () => {
    const out = await invoke(warm, { action: 'ctx' });
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    const r = out.result as { ctx: Record<string, unknown>; env: Record<string, string> };
    expect(r.ctx).toMatchObject({ functionName: 'probe', version: 7 });
    expect(r.ctx.invocationId).toMatch(/^inv-/);
    expect(r.ctx.remaining).toBeGreaterThan(0);
    expect(r.env).toEqual({ A: 'from-user', NODE_ENV: 'production', HOME: '/tmp', HEARTH_FUNCTION: 'probe', HEARTH_VERSION: '7' });
  });

  it('a second invoke reuses the warm container (same process, module state kept)', async () => {
    const a = await invoke(warm, { action: 'count' });
    const b = await invoke(warm, { action: 'count' });
    if (!a.ok || !b.ok) throw new Error('invoke failed');
    const ra = a.result as { count: number; pid: number };
    const rb = b.result as { count: number; pid: number };
    expect(rb.count).toBe(ra.count + 1);
    expect(rb.pid).toBe(ra.pid);
  });

  it('a thrown error is a function_error and the container keeps serving', async () => {
    const out = await invoke(warm, { action: 'throw', message: 'bad input' });
    expect(out).toMatchObject({ ok: false, error: { code: 'function_error', message: 'bad input' } });
    if (!out.ok) expect(out.error.stack).toContain('TypeError: bad input');
    const thrownString = await invoke(warm, { action: 'throwValue', value: 'plain string' });
    expect(thrownString).toMatchObject({ ok: false, error: { code: 'function_error', message: 'plain string' } });
    const thrownObject = await invoke(warm, { action: 'throwValue', value: { status: 418 } });
    expect(thrownObject).toMatchObject({ ok: false, error: { code: 'function_error', message: '{ status: 418 }' } });
    const rejected = await invoke(warm, { action: 'reject', message: 'x' });
    expect(rejected).toMatchObject({ ok: false, error: { code: 'function_error', message: 'rejected: x' } });
    expect(warm.alive).toBe(true);
    expect((await invoke(warm, { action: 'echo', value: 1 })).ok).toBe(true);
  });

  it('results must be JSON: undefined becomes null, a BigInt is a function_error', async () => {
    expect(await invoke(warm, { action: 'undefined' })).toMatchObject({ ok: true, result: null });
    const big = await invoke(warm, { action: 'bigint' });
    expect(big).toMatchObject({ ok: false, error: { code: 'function_error' } });
    if (!big.ok) expect(big.error.message).toMatch(/not JSON-serializable/);
    const payload = { s: 'line1\nline2 "quoted" ✓', n: [1, 2.5, null], nested: { deep: true } };
    expect(await invoke(warm, { action: 'echo', value: payload })).toMatchObject({ ok: true, result: payload });
  });

  it('carries a multi-megabyte payload both ways', async () => {
    const value = 'x'.repeat(4 * 1024 * 1024) + '\n✓';
    const out = await invoke(warm, { action: 'echo', value });
    expect(out.ok && out.result === value).toBe(true);
  });

  it('an image whose base layer predates the CommonJS agent still starts its ES module agent', async () => {
    const legacy = await create({}, [await functionLayer(PROBE), await baseLayer({ legacyAgent: true })]);
    try {
      const out = await invoke(legacy, { action: 'sandbox' });
      if (!out.ok) throw new Error(out.error.message);
      expect((out.result as { pid1: string[] }).pid1.at(-1)).toBe('/hearth/agent.mjs');
    } finally {
      await legacy.destroy();
    }
  });

  it('runs sandboxed: tini is pid 1, own hostname, only lo, read-only root, writable /tmp, no capabilities', async () => {
    const out = await invoke(warm, { action: 'sandbox' });
    if (!out.ok) throw new Error(out.error.message);
    const r = out.result as Record<string, unknown>;
    expect(r.pid1).toEqual(['/usr/bin/tini', '--', '/usr/bin/node', '--max-old-space-size=96', '--require', '/hearth/code-cache.cjs', '/hearth/agent.cjs']);
    // The preload resets the flag for node's code cache; V8's heap limit set at start stays (96 MB old space + young).
    expect(r.heapLimitMb).toBeGreaterThan(90);
    expect(r.heapLimitMb).toBeLessThan(160);
    expect(r.hostname).toBe('probe-host');
    expect(r.interfaces).toEqual(['lo']);
    expect(r.writeFunction).toBe('EROFS');
    expect(r.writeEtc).toBe('EROFS');
    expect(r.writeTmp).toBe('ok');
    expect(r.capEff).toBe('0000000000000000');
    expect(r.capPrm).toBe('0000000000000000');
    expect(r.capBnd).toBe('0000000000000000');
    expect(r.noNewPrivs).toBe('1');
    expect([r.uid, r.gid]).toEqual([1000, 1000]);
    expect(r.interrupts).toBe(0); // masked: /dev/null is bind-mounted over it
  });

  it('tags console output with the invocation it came from, even when invocations overlap', async () => {
    const [a, b] = await Promise.all([
      invoke(warm, { action: 'log', tag: 'A', lines: 5, gapMs: 3 }),
      invoke(warm, { action: 'log', tag: 'B', lines: 5, gapMs: 4 }),
    ]);
    for (const [out, tag] of [[a, 'A'], [b, 'B']] as const) {
      expect(out.ok).toBe(true);
      const lines = out.logs.map((l) => `${l.stream}:${l.line}`);
      expect(lines).toEqual([
        ...[0, 1, 2, 3, 4].map((i) => `stdout:${tag}-${i}`),
        `stderr:${tag}-err`,
        `stdout:${tag}-partial`,
      ]);
    }
  });

  it('attributes a child process writing to the real stdout to the single in-flight invocation', async () => {
    const out = await invoke(warm, { action: 'child' });
    expect(out.ok).toBe(true);
    // The child's write travels runc's pipe, not the channel: it may trail the result a little.
    expect(out.logs.map((l) => l.line)).toContain('from child');
  });

  it('caps logs per invocation and says so', async () => {
    const out = await invoke(warm, { action: 'flood', lines: 5000 });
    expect(out.ok).toBe(true);
    expect(out.logs.length).toBe(2001);
    expect(out.logs.at(-1)?.line).toMatch(/log output truncated/);
    // The next invocation starts with a fresh budget.
    const next = await invoke(warm, { action: 'log', tag: 'N', lines: 1, gapMs: 0 });
    expect(next.logs.length).toBe(3);
  });

  it('memoryBytes reports the cgroup usage', async () => {
    expect(await warm.memoryBytes()).toBeGreaterThan(1024 * 1024);
  });

  it('supports a named `handler` export', async () => {
    const c = await create({}, await layersFor(NAMED_HANDLER));
    try {
      expect(await invoke(c, { x: 1 })).toMatchObject({ ok: true, result: { named: true, event: { x: 1 }, fn: 'probe', version: 7 } });
    } finally {
      await c.destroy();
    }
  });

  it('a fetch-only module loads, but an event invocation is a function_error pointing to /fn/<name>/', async () => {
    const c = await create({ functionName: 'web' }, await layersFor(FETCH_ONLY));
    try {
      const out = await invoke(c, {});
      expect(out).toMatchObject({ ok: false, error: { code: 'function_error' } });
      if (!out.ok) expect(out.error.message).toContain('/fn/web/');
    } finally {
      await c.destroy();
    }
  });

  it('createContainer rejects with the import-time error and leaves nothing behind', async () => {
    const id = `c${++seq}`;
    await expect(create({ id }, await layersFor(THROWS_AT_IMPORT))).rejects.toThrow(/config missing: DATABASE_URL/);
    expectGone(id);
    await expect(create({}, await layersFor(NO_HANDLER))).rejects.toThrow(/exports no handler/);
  });

  it('createContainer rejects when the container cannot start (bad layer)', async () => {
    const id = `c${++seq}`;
    await expect(create({ id }, [await scratchDir()])).rejects.toThrow(/exited before it was ready|failed to start/);
    expectGone(id);
  });

  it('createContainer rejects after startTimeoutMs if the agent never reports ready', async () => {
    const id = `c${++seq}`;
    const started = Date.now();
    await expect(create({ id, startTimeoutMs: 500 }, await layersFor(SLOW_IMPORT))).rejects.toThrow(/did not report ready within 500 ms/);
    expect(Date.now() - started).toBeLessThan(5000);
    expectGone(id);
  });

  it('refuses bad ids, duplicate ids and bad options before touching anything', async () => {
    await expect(create({ id: '../etc' })).rejects.toThrow(/invalid container id/);
    await expect(create({ id: warm.id })).rejects.toThrow(/already exists/);
    await expect(create({ hostname: 'no spaces allowed' })).rejects.toThrow(/invalid hostname/);
    await expect(create({ env: { 'A=B': 'x' } })).rejects.toThrow(/invalid env name/);
    expect(runtime.containers()).toEqual([warm]);
  });

  it('an invalid or past deadline fails fast without harming the container', async () => {
    expect(await warm.invoke({ invocationId: 'x', event: {}, deadline: Date.now() - 1 })).toMatchObject({ ok: false, error: { code: 'timeout' } });
    expect(await warm.invoke({ invocationId: 'x', event: {}, deadline: Number.NaN })).toMatchObject({ ok: false, error: { code: 'internal' } });
    expect(warm.alive).toBe(true);
    expect(await warm.invoke({ invocationId: 'x', event: {}, deadline: Number.MAX_SAFE_INTEGER })).toMatchObject({ ok: true });
  });

  it('past the deadline: timeout, and the container is destroyed', async () => {
    const c = await create();
    const started = Date.now();
    const out = await c.invoke({ invocationId: 'spin', event: { action: 'spin' }, deadline: Date.now() + 300 });
    expect(out).toMatchObject({ ok: false, error: { code: 'timeout' } });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(c.alive).toBe(false);
    expect(await c.exited).toMatchObject({ oomKilled: false });
    expectGone(c.id);
    expect(runtime.containers()).not.toContain(c);
  });

  it('allocating past memoryMb is out_of_memory (cgroup OOM kill)', async () => {
    const c = await create({ memoryMb: 96 });
    const out = await invoke(c, { action: 'alloc' }, 30_000);
    expect(out).toMatchObject({ ok: false, error: { code: 'out_of_memory' } });
    expect((await c.exited).oomKilled).toBe(true);
    expectGone(c.id);
  });

  it('a V8 heap blow-up is out_of_memory too', async () => {
    const c = await create({ memoryMb: 256 });
    const out = await invoke(c, { action: 'heap' }, 60_000);
    expect(out).toMatchObject({ ok: false, error: { code: 'out_of_memory' } });
    // The outcome comes as soon as the exit is explained; clean-up finishes before `exited`.
    expect((await c.exited).oomKilled).toBe(true);
    expectGone(c.id);
  });

  it('a container that exits mid-invocation is internal "container exited"', async () => {
    const c = await create();
    const out = await invoke(c, { action: 'exit', code: 3 });
    expect(out).toMatchObject({ ok: false, error: { code: 'internal', message: 'container exited (code 3)' } });
    expect(await c.exited).toEqual({ code: 3, signal: null, oomKilled: false });
    expectGone(c.id);
  });

  it('destroy() fails in-flight invocations, leaves no runc container, mount, bundle or cgroup, and is idempotent', async () => {
    const c = await create();
    expect(runcIds(instance)).toContain(c.id);
    expect(cgroupDirsOf(instance, c.id).length).toBeGreaterThan(0);
    // runc mounted the rootfs in the container's own mount namespace: none on the host.
    expect(mountsBelow(rootfsMountPoint(instance, c.id))).toEqual([]);
    const pending = invoke(c, { action: 'sleep', ms: 10_000 });
    await new Promise((r) => setTimeout(r, 50));
    await Promise.all([c.destroy(), c.destroy()]);
    await c.destroy();
    expect(await pending).toMatchObject({ ok: false, error: { code: 'internal' } });
    expectGone(c.id);
    expect(c.alive).toBe(false);
    expect(await invoke(c, {})).toMatchObject({ ok: false, error: { code: 'internal' } });
    expect(await c.memoryBytes()).toBe(0);
  });

  it('if the process spawner dies, the containers it started are removed and the next start gets a new spawner', async () => {
    const c = await create();
    const [first] = spawnerPids(instance);
    expect(first).toBeGreaterThan(0);
    process.kill(first, 'SIGKILL');
    // runc lives on, reparented, but nothing reports its exit any more: the container is torn down.
    await c.exited;
    expectGone(c.id);
    const next = await create();
    expect(await invoke(next, { action: 'ctx' })).toMatchObject({ ok: true });
    expect(spawnerPids(instance)).toHaveLength(1);
    expect(spawnerPids(instance)[0]).not.toBe(first);
    await next.destroy();
    warm = await create(); // the shared warm container went with the spawner
  });

  it('close() destroys every live container', async () => {
    const extra = new Runtime({ stateDir: await scratchDir(), instance: testInstance() });
    await extra.start();
    const cs = await Promise.all([0, 1].map((i) =>
      extra.createContainer({ id: `x${i}`, layerDirs: probeLayers, memoryMb: 128, env: {}, hostname: 'x', functionName: 'x', version: 1 }),
    ));
    expect(extra.containers()).toHaveLength(2);
    await extra.close();
    expect(extra.containers()).toHaveLength(0);
    for (const c of cs) expect(c.alive).toBe(false);
  });

  it("runc mounts each rootfs in the container's own namespace: the host holds one read-only bind of the layers' dir, whatever runs; close() removes it", async () => {
    const inst = testInstance();
    // A state dir others cannot search (mkdtemp: 0700), as a user's data dir often is.
    const dir = await tempStateDir();
    const extra = new Runtime({ stateDir: dir, instance: inst });
    await extra.start();
    const other = await layersFor('export default () => "other"');
    const opts = { memoryMb: 128, env: {}, hostname: 's', functionName: 's', version: 1 };
    const [a, b] = await Promise.all([
      extra.createContainer({ ...opts, id: 'a', layerDirs: probeLayers }),
      extra.createContainer({ ...opts, id: 'b', layerDirs: other }),
    ]);
    expect(mountsBelow(rootfsMountPoint(inst))).toEqual([]);
    // Both images' layers sit in one fixtures dir: one bind serves them.
    const binds = mountsBelow(layerBindsBase(inst));
    expect(binds).toHaveLength(1);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).toMatch(new RegExp(`${binds[0]} ro[, ]`));
    // The overlay is the container's root: read-only, the function's own code on it.
    expect(await a.invoke({ invocationId: 'i', event: { action: 'sandbox' }, deadline: Date.now() + 5000 })).toMatchObject({ ok: true, result: { writeTmp: 'ok', writeFunction: 'EROFS', writeEtc: 'EROFS' } });
    expect(await b.invoke({ invocationId: 'j', event: {}, deadline: Date.now() + 5000 })).toMatchObject({ ok: true, result: 'other' });
    await a.destroy();
    await b.destroy();
    expect(mountsBelow(layerBindsBase(inst))).toHaveLength(1);
    await extra.close();
    expect(mountsBelow(layerBindsBase(inst))).toEqual([]);
    expect(existsSync(layerBindsBase(inst))).toBe(false);
    await rm(dir, { recursive: true, force: true });
  });

  it('an upper layer hides what it deleted (an opaque dir, a whiteout) inside the container, as image unpack writes them', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'hearth-layers-'));
    await chmod(parent, 0o755);
    const top = join(parent, 'top');
    await mkdir(join(top, 'function'), { recursive: true, mode: 0o755 });
    await mkdir(join(top, 'etc'), { mode: 0o755 });
    await chmod(top, 0o755);
    const source = "import { existsSync, readdirSync } from 'node:fs'; export default () => ({ fn: readdirSync('/function'), passwd: existsSync('/etc/passwd') });";
    await writeFile(join(top, 'function', 'index.mjs'), source);
    await setOpaque(join(top, 'function'));
    await mknod(join(top, 'etc', 'passwd'), 'c', 0, 0);
    try {
      // Below: a function layer whose /function holds hearth.json too, and the base with /etc/passwd.
      const c = await create({}, [top, await functionLayer('export default () => 1'), await baseLayer()]);
      expect(await invoke(c, {})).toMatchObject({ ok: true, result: { fn: ['index.mjs'], passwd: false } });
      await c.destroy();
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });

  it('close() during createContainer aborts the start quickly and cleans up', async () => {
    const inst = testInstance();
    const dir = await tempStateDir();
    const extra = new Runtime({ stateDir: dir, instance: inst });
    await extra.start();
    for (const delayMs of [0, 10, 30]) {
      const creating = extra.createContainer({ id: `s${delayMs}`, layerDirs: probeLayers, memoryMb: 128, env: {}, hostname: 's', functionName: 's', version: 1 });
      const settled = creating.then(() => 'created', (e: Error) => e.message);
      await new Promise((r) => setTimeout(r, delayMs));
      const started = Date.now();
      await extra.close();
      const result = await settled;
      expect(Date.now() - started).toBeLessThan(2500);
      expect(result === 'created' || /exited before it was ready|closing|start failed/.test(result)).toBe(true);
      expect(runcIds(inst)).toEqual([]);
      expect(cgroupDirsOf(inst)).toEqual([]);
      expect(mountsBelow(dir)).toEqual([]);
      expect(mountsBelow(rootfsMountPoint(inst))).toEqual([]);
      await extra.start();
    }
    await extra.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('start() fails clearly when runc is missing; createContainer needs start()', async () => {
    const broken = new Runtime({ stateDir: await scratchDir(), instance: testInstance(), runc: '/nonexistent/runc' });
    await expect(broken.start()).rejects.toThrow(/ENOENT/);
    await expect(
      broken.createContainer({ id: 'x', layerDirs: probeLayers, memoryMb: 128, env: {}, hostname: 'x', functionName: 'x', version: 1 }),
    ).rejects.toThrow(/not started/);
    expect(() => new Runtime({ stateDir, instance: 'Bad-Instance' })).toThrow(RangeError);
  });

  function expectGone(id: string): void {
    expect(runcIds(instance)).not.toContain(id);
    expect(cgroupDirsOf(instance, id)).toEqual([]);
    const bundle = join(stateDir, 'containers', id);
    expect(mountsBelow(bundle)).toEqual([]);
    expect(mountsBelow(rootfsMountPoint(instance, id))).toEqual([]);
    expect(existsSync(bundle)).toBe(false);
  }
});
