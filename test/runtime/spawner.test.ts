import { afterEach, describe, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import { ProcessSpawner, type SpawnedProcess } from '../../src/runtime/spawner/index.ts';

const read = (s: Socket): Promise<string> =>
  new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    s.on('data', (c: Buffer) => parts.push(c));
    s.once('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    s.once('error', reject);
  });

const exited = (p: SpawnedProcess): Promise<[number | null, NodeJS.Signals | null]> =>
  p.hasExited ? Promise.resolve([p.exitCode, p.signalCode]) : new Promise((r) => p.once('exit', (code, signal) => r([code, signal])));

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('ProcessSpawner', () => {
  const warnings: string[] = [];
  let spawner: ProcessSpawner;
  afterEach(async () => {
    await spawner?.close();
    warnings.length = 0;
  });
  const make = (): ProcessSpawner => {
    spawner = new ProcessSpawner('test', (m) => warnings.push(m));
    spawner.start();
    return spawner;
  };

  it('hands back stdout, stderr and a two-way fd 3, and reports the exit code', async () => {
    const p = await make().spawn('/bin/sh', ['-c', 'echo out; echo err >&2; echo ready >&3; read line <&3; echo "got $line"; exit 3']);
    const [out, err] = [read(p.stdout), read(p.stderr)];
    await new Promise((r) => p.extraFd.once('data', r));
    p.extraFd.write('ping\n');
    expect(await exited(p)).toEqual([3, null]);
    expect(await out).toBe('out\ngot ping\n');
    expect(await err).toBe('err\n');
    expect(p.pid).toBeGreaterThan(0);
  });

  it('loses none of the output of a process that exits at once (the spawner never reads it)', async () => {
    const s = make();
    const runs = await Promise.all(Array.from({ length: 20 }, (_, i) => s.spawn('/bin/sh', ['-c', `echo out${i}; echo err${i} >&2; echo fd${i} >&3; exit ${i}`])));
    const seen = await Promise.all(runs.map(async (p) => [await read(p.stdout), await read(p.stderr), await read(p.extraFd), (await exited(p))[0]]));
    expect(seen).toEqual(runs.map((_, i) => [`out${i}\n`, `err${i}\n`, `fd${i}\n`, i]));
  });

  it('rejects a binary that does not exist', async () => {
    await expect(make().spawn('/nonexistent/runc', [])).rejects.toThrow(/nonexistent\/runc.*ENOENT/);
  });

  it('exec runs a short command to completion: exit code, stdout and stderr, never a rejection for a non-zero exit', async () => {
    const s = make();
    expect(await s.exec('/bin/sh', ['-c', 'echo out; echo err >&2; exit 4'])).toEqual({ code: 4, signal: null, stdout: 'out\n', stderr: 'err\n' });
    const many = await Promise.all(Array.from({ length: 10 }, (_, i) => s.exec('/bin/sh', ['-c', `echo ${i}`])));
    expect(many.map((r) => r.stdout)).toEqual(Array.from({ length: 10 }, (_, i) => `${i}\n`));
    await expect(s.exec('/nonexistent/umount', [])).rejects.toThrow(/ENOENT/);
  });

  it('exec kills a command past its timeout; a grandchild holding the pipes open does not hang it', async () => {
    const s = make();
    let started = Date.now();
    expect(await s.exec('/bin/sleep', ['30'], 200)).toMatchObject({ code: null, signal: 'SIGKILL' });
    expect(Date.now() - started).toBeLessThan(2000);
    // The shell exits at once; its background sleep keeps stdout open for 3 s.
    started = Date.now();
    expect(await s.exec('/bin/sh', ['-c', 'sleep 3 & echo started'])).toMatchObject({ code: 0, stdout: 'started\n' });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('exec after close() runs the command in this process (a late clean-up still works)', async () => {
    const s = make();
    await s.close();
    expect(await s.exec('/bin/sh', ['-c', 'echo here'])).toMatchObject({ code: 0, stdout: 'here\n' });
    expect(s.pid).toBeUndefined();
  });

  it('kill() signals the process; the exit names the signal', async () => {
    const p = await make().spawn('/bin/sleep', ['30']);
    p.kill('SIGKILL');
    expect(await exited(p)).toEqual([null, 'SIGKILL']);
    p.kill('SIGKILL'); // after the exit: a no-op
  });

  it('if the spawner dies, its processes are reported gone and the next spawn starts a new one', async () => {
    const s = make();
    const p = await s.spawn('/bin/sleep', ['30']);
    const first = s.pid!;
    process.kill(first, 'SIGKILL');
    expect(await exited(p)).toEqual([null, null]);
    expect(warnings.join('\n')).toMatch(/process spawner exited \(signal SIGKILL\); 1 of its processes/);
    process.kill(p.pid, 'SIGKILL'); // reparented, still running: its owner's clean-up would stop it
    const next = await s.spawn('/bin/sh', ['-c', 'echo again']);
    expect(await read(next.stdout)).toBe('again\n');
    expect(s.pid).not.toBe(first);
  });

  it('close() stops the spawner process; later spawns are refused', async () => {
    const s = make();
    await exited(await s.spawn('/bin/true', []));
    const pid = s.pid!;
    await s.close();
    expect(alive(pid)).toBe(false);
    await expect(s.spawn('/bin/true', [])).rejects.toThrow(/closed/);
    expect(warnings).toEqual([]);
  });

  it('the spawner exits when its owner dies without closing it', async () => {
    // A child node that makes a spawner and is then SIGKILLed: the spawner's IPC channel closes.
    const { spawn } = await import('node:child_process');
    const owner = spawn(process.execPath, ['--import', 'tsx', '-e', `
      import('${new URL('../../src/runtime/spawner/index.ts', import.meta.url).href}').then(({ ProcessSpawner }) => {
        const s = new ProcessSpawner('test', () => {}); s.start(); console.log(s.pid);
      });`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const pid = Number(await new Promise<string>((r) => owner.stdout.once('data', (d: Buffer) => r(d.toString()))));
    expect(alive(pid)).toBe(true);
    owner.kill('SIGKILL');
    await until(() => !alive(pid));
    spawner = new ProcessSpawner('test', () => {}); // nothing to close
  });
});
