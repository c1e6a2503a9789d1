import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_STEM_CELLS } from '../../src/config/index.ts';
import { instanceOf } from '../../src/hearth.ts';
import { cgroupDirsOf, runcIds, waitFor } from '../helpers/host.ts';
import { TEMPLATE_IMAGES_DIR } from '../helpers/template.ts';
import { BIN, hearthCli } from './run.ts';

const dirs: string[] = [];
const children: ChildProcess[] = [];

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hearth-up-'));
  dirs.push(dir);
  if (existsSync(TEMPLATE_IMAGES_DIR)) execFileSync('cp', ['-al', TEMPLATE_IMAGES_DIR, path.join(dir, 'images')]);
  return dir;
}

describe('hearth up', () => {
  it('runs the server with JSON logs (pino) carrying request ids, and stops cleanly on SIGTERM', async () => {
    const dir = await dataDir();
    // Default settings, stem cells included: they must be gone after SIGTERM like any container.
    const child = spawn(process.execPath, [BIN, 'up', '--data-dir', dir], {
      env: { ...process.env, HEARTH_PORT: '0', HEARTH_FUNCTIONS_DIR: '', HEARTH_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    const lines: Record<string, unknown>[] = [];
    const listening = new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const entry = JSON.parse(line) as Record<string, unknown>; // every stdout line is JSON
        lines.push(entry);
        if (typeof entry.url === 'string') resolve(entry.url);
      });
      child.once('exit', (code) => reject(new Error(`hearth up exited with ${code}`)));
    });
    const url = await listening;

    const res = await fetch(`${url}/v1/functions/nothing-here`, { headers: { 'x-request-id': 'req-abc-123' } });
    expect(res.status).toBe(404);
    expect(res.headers.get('x-request-id')).toBe('req-abc-123');
    expect((await hearthCli(['ls', '--json'], { env: { HEARTH_URL: url } })).stdout.trim()).toBe('[]');

    await waitFor(async () => {
      const cells = ((await (await fetch(`${url}/v1/pool`)).json()) as { stemCells: { state: string }[] }).stemCells;
      return cells.filter((c) => c.state === 'ready').length === DEFAULT_STEM_CELLS;
    }, 20_000);
    expect(runcIds(instanceOf(dir))).toHaveLength(DEFAULT_STEM_CELLS);

    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(runcIds(instanceOf(dir))).toEqual([]);
    expect(cgroupDirsOf(instanceOf(dir))).toEqual([]);

    const request = lines.find((l) => l.reqId === 'req-abc-123');
    expect(request).toMatchObject({ level: 'warn', service: 'hearth', method: 'GET', path: '/v1/functions/nothing-here', status: 404, ms: expect.any(Number) });
    expect(lines.find((l) => l.path === '/v1/functions' && l.status === 200)).toMatchObject({ level: 'info', reqId: expect.any(String) });
    expect(lines.every((l) => typeof l.time === 'string' && typeof l.msg === 'string')).toBe(true);
  });

  it('refuses an unknown HEARTH_LOG_LEVEL', async () => {
    const res = await hearthCli(['up', '--data-dir', await dataDir()], { env: { HEARTH_PORT: '0', HEARTH_LOG_LEVEL: 'loud', HEARTH_FUNCTIONS_DIR: '' } });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('HEARTH_LOG_LEVEL must be one of');
  });
});
