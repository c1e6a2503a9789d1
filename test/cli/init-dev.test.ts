/**
 * `hearth init NAME --template T` writes a folder that deploys as is; `hearth dev DIR` redeploys
 * on every change and follows the function's logs. Through the real CLI against a real server.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHearth, type TestHearth } from '../helpers/hearth.ts';
import { waitFor } from '../helpers/host.ts';
import { BIN, hearthCli } from './run.ts';

let h: TestHearth;
let work: string;
let env: Record<string, string>;

beforeAll(async () => {
  h = await startHearth();
  env = { HEARTH_URL: h.url };
  work = await mkdtemp(path.join(os.tmpdir(), 'hearth-init-'));
});

afterAll(async () => {
  await h?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('hearth init', () => {
  it('each template deploys as written and answers', async () => {
    for (const template of ['handler', 'lambda', 'fetch', 'hono', 'cron']) {
      const name = `tpl-${template}`;
      const made = await hearthCli(['init', name, '--template', template], { cwd: work });
      expect(made.code, made.stderr).toBe(0);
      expect(made.stdout).toContain(`created ${name} (${template})`);
      // What `npm install` would do for the hono template, offline.
      if (template === 'hono') await symlink(path.resolve('node_modules'), path.join(work, name, 'node_modules'));
      const deployed = await hearthCli(['deploy', path.join(work, name)], { env });
      expect(deployed.code, deployed.stderr).toBe(0);
    }
    expect((await h.invoke('tpl-handler', { name: 'Ada' })).body.message).toBe('Hello, Ada!');
    expect(await (await fetch(`${h.url}/fn/tpl-lambda/?name=Grace`)).json()).toMatchObject({ message: 'Hello, Grace!' });
    expect(await (await fetch(`${h.url}/fn/tpl-fetch/x`)).json()).toEqual({ path: '/x', method: 'GET' });
    expect(await (await fetch(`${h.url}/fn/tpl-hono/hello/Linus`)).text()).toBe('Hello, Linus!');
    const schedules = await h.api('GET', '/v1/functions/tpl-cron/schedules');
    expect(schedules.status).toBe(200);
    expect(schedules.text).toContain('every-5-minutes');
    expect((await h.invoke('tpl-cron', null)).body.ranAt).toMatch(/^\d{4}-/);
  });

  it('refuses a folder that is not empty and a bad name', async () => {
    const again = await hearthCli(['init', 'tpl-handler'], { cwd: work });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/not empty/);
    expect((await hearthCli(['init', 'Bad_Name'], { cwd: work })).code).toBe(2);
  });
});

describe('hearth dev', () => {
  it('redeploys on a change and follows the logs', async () => {
    const made = await hearthCli(['init', 'dev-fn'], { cwd: work });
    expect(made.code, made.stderr).toBe(0);
    const dir = path.join(work, 'dev-fn');
    const child = spawn(process.execPath, [BIN, 'dev', dir], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    try {
      await waitFor(() => output.includes('watching'), 30_000);
      expect(output).toMatch(/deployed dev-fn v1/);
      await writeFile(path.join(dir, 'index.ts'), "export default async () => { console.log('from v2'); return { v: 2 }; };\n");
      await waitFor(() => /deployed dev-fn v2/.test(output), 30_000);
      expect((await h.invoke('dev-fn', {})).body).toEqual({ v: 2 });
      await waitFor(() => output.includes('from v2'), 15_000);
    } finally {
      child.kill('SIGINT');
      await new Promise((r) => child.once('exit', r));
    }
  });
});
