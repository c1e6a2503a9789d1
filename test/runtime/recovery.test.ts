/** A Hearth that died hard leaves containers behind; the next Runtime with its instance removes them. */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Runtime } from '../../src/runtime/index.ts';
import { layersFor, tempStateDir, testInstance } from './fixtures.ts';
import { PROBE } from './functions.ts';
import { canRunContainers, cgroupDirsOf, layerBindsBase, mountsBelow, rootfsMountPoint, runcIds } from '../helpers/host.ts';

/** Pids whose command line contains every one of the given words. */
function pidsWith(...words: string[]): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (words.every((w) => cmd.includes(w))) pids.push(Number(name));
    } catch {
      // Exited meanwhile.
    }
  }
  return pids;
}

describe.skipIf(!canRunContainers)('recovery after a crash', () => {
  const instance = testInstance();
  let stateDir: string | undefined;
  let helperPid: number | undefined;

  afterAll(async () => {
    if (helperPid) {
      try {
        process.kill(helperPid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  it('start() removes a running container whose Hearth was frozen and whose runc was SIGKILLed', async () => {
    stateDir = await tempStateDir();
    const layers = await layersFor(PROBE);
    const helper = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'crash-helper.ts'), stateDir, instance, JSON.stringify(layers)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    helperPid = helper.pid;
    const report = await new Promise<string>((resolve, reject) => {
      let buf = '';
      helper.stdout.on('data', (c: Buffer) => {
        buf += c.toString();
        if (buf.includes('\n')) resolve(buf.trim());
      });
      helper.once('exit', (code) => reject(new Error(`helper exited early (${code})`)));
    });
    expect(JSON.parse(report)).toEqual({ id: 'orphan', ok: true });

    // The crash: Hearth stops dead (it holds the agent's channel open, so the container lives on),
    // and its runc is SIGKILLed.
    process.kill(helper.pid!, 'SIGSTOP');
    const runcPids = pidsWith('run', '--root', `/run/hearth/${instance}`);
    expect(runcPids).toHaveLength(1);
    process.kill(runcPids[0], 'SIGKILL');
    await new Promise((r) => setTimeout(r, 100));

    const bundle = join(stateDir, 'containers', 'orphan');
    expect(runcIds(instance)).toEqual(['orphan']);
    expect(cgroupDirsOf(instance, 'orphan').length).toBeGreaterThan(0);
    // Its rootfs may or may not still be in the host's mount table (a running container's is
    // detached shortly after it started); either way the restart below leaves none.
    expect(pidsWith('/hearth/agent.cjs').length).toBeGreaterThan(0);

    const runtime = new Runtime({ stateDir, instance });
    await runtime.start();
    try {
      expect(runcIds(instance)).toEqual([]);
      expect(cgroupDirsOf(instance, 'orphan')).toEqual([]);
      expect(mountsBelow(rootfsMountPoint(instance, 'orphan'))).toEqual([]);
      expect(existsSync(bundle)).toBe(false);

      // And the runtime works normally afterwards, even reusing the id.
      const c = await runtime.createContainer({ id: 'orphan', layerDirs: layers, memoryMb: 128, env: {}, hostname: 'h', functionName: 'f', version: 1 });
      expect((await c.invoke({ invocationId: 'y', event: { action: 'count' }, deadline: Date.now() + 5000 })).ok).toBe(true);
    } finally {
      await runtime.close();
    }
    expect(cgroupDirsOf(instance)).toEqual([]);
  });

  it("start() unmounts a dead predecessor's layer binds without touching the layers, and runs on its own", async () => {
    const inst = testInstance();
    const dir = await tempStateDir();
    const layers = await layersFor(PROBE);
    const dead = new Runtime({ stateDir: dir, instance: inst });
    await dead.start();
    const opts = { layerDirs: layers, memoryMb: 128, env: {}, hostname: 'r', functionName: 'r', version: 1 };
    await dead.createContainer({ ...opts, id: 'gone' });
    expect(mountsBelow(layerBindsBase(inst))).toHaveLength(1);
    // `dead` is never closed: its successor finds the bind (and the container) and removes them.
    const runtime = new Runtime({ stateDir: dir, instance: inst });
    await runtime.start();
    expect(mountsBelow(layerBindsBase(inst))).toEqual([]);
    expect(mountsBelow(rootfsMountPoint(inst))).toEqual([]);
    for (const layer of layers) expect(readdirSync(layer).length).toBeGreaterThan(0);
    const c = await runtime.createContainer({ ...opts, id: 'next' });
    expect((await c.invoke({ invocationId: 'z', event: { action: 'ctx' }, deadline: Date.now() + 5000 })).ok).toBe(true);
    await runtime.close();
    expect(mountsBelow(layerBindsBase(inst))).toEqual([]);
    await rm(dir, { recursive: true, force: true });
  });
});
