/**
 * Measures what the runtime adds: createContainer (runc start → agent ready) against a raw
 * `runc run` of `node -e 0` on the same rootfs, the warm invoke round trip over fd 3, and the
 * memory of an idle container. Prints the numbers; asserts only generous bounds.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime } from '../../src/runtime/index.ts';
import { mountOverlay, unmount } from '../../src/runtime/rootfs.ts';
import { buildSpec, withProcessArgs, withCgroupsPath, withMemoryLimit } from '../../src/runtime/spec/index.ts';
import { layersFor, tempStateDir, testInstance } from './fixtures.ts';
import { canRunContainers, RUNC } from './host.ts';

const NOOP = `export default async () => null;`;

function p(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

/** The foreground `runc run` process of a container (it lives outside the container's cgroup). */
function runcPidOf(instance: string, id: string): number | undefined {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (argv.includes('run') && argv.includes(`/run/hearth/${instance}`) && argv.includes(id)) return Number(name);
    } catch {
      // Exited meanwhile.
    }
  }
  return undefined;
}

const fmt = (ms: number) => `${ms.toFixed(2)} ms`;

/** Pss (kB → bytes) of a process, from smaps_rollup. */
async function pss(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
  return Number(/^Pss:\s+(\d+) kB/m.exec(text)?.[1] ?? 0) * 1024;
}

describe.skipIf(!canRunContainers)('runtime performance', () => {
  const instance = testInstance();
  let stateDir: string;
  let runtime: Runtime;
  let layers: string[];
  const results: Record<string, string> = {};

  beforeAll(async () => {
    stateDir = await tempStateDir();
    runtime = new Runtime({ stateDir, instance });
    await runtime.start();
    layers = await layersFor(NOOP);
  });

  afterAll(async () => {
    await runtime?.close();
    console.log(`runtime bench:\n${Object.entries(results).map(([k, v]) => `  ${k}: ${v}`).join('\n')}`);
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  it('raw runc run of node -e 0 (baseline)', async () => {
    const bundle = join(stateDir, 'raw');
    await mkdir(bundle);
    await mountOverlay({ layerDirs: layers, target: join(bundle, 'rootfs'), emptyDir: join(stateDir, 'empty') });
    const spec = buildSpec([withProcessArgs('/usr/bin/node', '-e', '0'), withMemoryLimit(128), withCgroupsPath(`/hearth/${instance}/raw`)]);
    await writeFile(join(bundle, 'config.json'), JSON.stringify(spec));
    const times: number[] = [];
    try {
      for (let i = 0; i < 15; i++) {
        const t = performance.now();
        const code = await new Promise<number | null>((resolve) => {
          const child = spawn(RUNC, ['--root', `/run/hearth/${instance}`, 'run', '--bundle', bundle, `raw${i}`], { stdio: 'ignore' });
          child.once('exit', resolve);
        });
        times.push(performance.now() - t);
        expect(code).toBe(0);
      }
    } finally {
      await unmount(join(bundle, 'rootfs'));
    }
    results['raw runc run node -e 0 p50'] = fmt(p(times, 0.5));
  });

  it('createContainer: runc start → agent ready', async () => {
    const times: number[] = [];
    for (let i = 0; i < 15; i++) {
      const t = performance.now();
      const c = await runtime.createContainer({ id: `b${i}`, layerDirs: layers, memoryMb: 128, env: {}, hostname: 'b', functionName: 'noop', version: 1 });
      times.push(performance.now() - t);
      await c.destroy();
    }
    results['createContainer p50'] = fmt(p(times, 0.5));
    results['createContainer p90'] = fmt(p(times, 0.9));
    expect(p(times, 0.5)).toBeLessThan(1000);
  });

  it('warm invoke round trip over the fd-3 channel', async () => {
    const c = await runtime.createContainer({ id: 'warm', layerDirs: layers, memoryMb: 128, env: {}, hostname: 'w', functionName: 'noop', version: 1 });
    try {
      const invoke = () => c.invoke({ invocationId: 'i', event: { hello: 'world' }, deadline: Date.now() + 5000 });
      for (let i = 0; i < 200; i++) await invoke();
      const times: number[] = [];
      for (let i = 0; i < 1000; i++) {
        const t = performance.now();
        const out = await invoke();
        times.push(performance.now() - t);
        if (!out.ok) throw new Error(out.error.message);
      }
      results['warm invoke p50'] = fmt(p(times, 0.5));
      results['warm invoke p99'] = fmt(p(times, 0.99));

      const t = performance.now();
      await Promise.all(Array.from({ length: 2000 }, invoke));
      results['warm invokes/s, 2000 in flight on one container'] = String(Math.round(2000 / ((performance.now() - t) / 1000)));

      await new Promise((r) => setTimeout(r, 300));
      const cgroupPids = (await readFile(`/sys/fs/cgroup/memory/hearth/${instance}/warm/cgroup.procs`, 'utf8')).split('\n').filter(Boolean).map(Number);
      let inContainer = 0;
      for (const pid of cgroupPids) inContainer += await pss(pid);
      results['idle container PSS (tini + node)'] = `${(inContainer / 2 ** 20).toFixed(1)} MiB`;
      const runcPid = runcPidOf(instance, 'warm');
      if (runcPid) results['idle foreground runc PSS (outside the cgroup)'] = `${((await pss(runcPid)) / 2 ** 20).toFixed(1)} MiB`;
      results['idle container cgroup memory.usage_in_bytes'] = `${((await c.memoryBytes()) / 2 ** 20).toFixed(1)} MiB`;
      expect(p(times, 0.5)).toBeLessThan(20);
    } finally {
      await c.destroy();
    }
  });
});
