import { mkdtemp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHearth, type TestHearth } from '../helpers/hearth.ts';
import { BIN, hearthCli } from './run.ts';

let h: TestHearth;
let work: string;
let env: Record<string, string>;

/** Whether the server under test has a route yet (some come with other issues): not a 404 "no route". */
async function hasRoute(method: string, urlPath: string): Promise<boolean> {
  const res = await h.api(method, urlPath);
  return !(res.status === 404 && String(res.body?.error?.message ?? '').startsWith('no route'));
}

beforeAll(async () => {
  h = await startHearth();
  env = { HEARTH_URL: h.url };
  work = await mkdtemp(path.join(os.tmpdir(), 'hearth-cli-'));
  // A function folder with its own node_modules: a CommonJS package only this folder has.
  const fn = path.join(work, 'greeter');
  await mkdir(path.join(fn, 'node_modules', 'shout-lib'), { recursive: true });
  await writeFile(path.join(fn, 'node_modules', 'shout-lib', 'package.json'), JSON.stringify({ name: 'shout-lib', version: '1.0.0', main: 'index.js' }));
  await writeFile(path.join(fn, 'node_modules', 'shout-lib', 'index.js'), 'module.exports = (s) => String(s).toUpperCase() + "!";\n');
  await writeFile(path.join(fn, 'package.json'), JSON.stringify({ name: 'greeter', private: true, dependencies: { 'shout-lib': '1.0.0' } }));
  await writeFile(path.join(fn, 'hearth.json'), JSON.stringify({ name: 'cli-greeter', entry: 'src/main.ts', timeoutMs: 5000 }));
  await mkdir(path.join(fn, 'src'));
  await writeFile(path.join(fn, 'src', 'main.ts'), [
    "import shout from 'shout-lib';",
    'export default async (event: { who?: string } | null) => {',
    '  console.log(`greeting ${event?.who}`);',
    "  if (event?.who === 'nobody') throw new Error('nobody to greet');",
    '  return { text: shout(`hello ${event?.who ?? "world"}`) };',
    '};',
  ].join('\n'));
});

afterAll(async () => {
  await h?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('usage', () => {
  it('prints help for the program and every command, exit 0', async () => {
    const top = await hearthCli(['--help']);
    expect(top.code).toBe(0);
    for (const cmd of ['up', 'deploy', 'invoke', 'ls', 'rm', 'logs', 'versions', 'rollback', 'schedules', 'secrets', 'pool', 'nodes']) {
      expect(top.stdout).toContain(cmd);
    }
    for (const args of [['deploy', '--help'], ['invoke', '--help'], ['secrets', 'set', '--help'], ['schedules', 'set', '--help']]) {
      const res = await hearthCli(args);
      expect(res.code, args.join(' ')).toBe(0);
      expect(res.stdout).toMatch(/^Usage: hearth /);
      expect(res.stdout).toContain('--json');
    }
  });

  it('exits 2 on usage errors', async () => {
    expect((await hearthCli([])).code).toBe(2);
    const unknown = await hearthCli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    expect((await hearthCli(['invoke'])).code).toBe(2);
    expect((await hearthCli(['rollback', 'x', 'two'], { env })).code).toBe(2);
    const badData = await hearthCli(['invoke', 'x', '--data', '{nope'], { env });
    expect(badData.code).toBe(2);
    expect(badData.stderr).toContain('--data is not valid JSON');
  });

  it('exits 1 with a clear message when the server cannot be reached', async () => {
    const res = await hearthCli(['ls'], { env: { HEARTH_URL: 'http://127.0.0.1:9' } });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('error unreachable: cannot reach Hearth at http://127.0.0.1:9');
  });
});

describe('against a real server', () => {
  it('deploys a folder with its own node_modules, bundled locally, and prints what happened', async () => {
    const res = await hearthCli(['deploy', path.join(work, 'greeter')], { env });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^deployed cli-greeter v1$/m);
    expect(res.stdout).toMatch(/digest\s+sha256:[0-9a-f]{64}/);
    expect(res.stdout).toMatch(/bundle\s+[\d.]+ (B|KB) \(entry src\/main\.ts\)/);
    expect(res.stdout).toMatch(/time\s+\d+ ms/);
    // No spinner on a pipe.
    expect(res.stdout + res.stderr).not.toContain('\r');

    // The same folder again builds the same image: no new version.
    const same = await hearthCli(['deploy', path.join(work, 'greeter')], { env });
    expect(same.stdout).toMatch(/^cli-greeter v1 unchanged \(same source and config\)$/m);

    const source = path.join(work, 'greeter', 'src', 'main.ts');
    await writeFile(source, `${await readFile(source, 'utf8')}\nexport const revision = 2;\n`);
    const json = await hearthCli(['deploy', path.join(work, 'greeter'), '--json'], { env });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ name: 'cli-greeter', version: 2, unchanged: false, digest: expect.stringMatching(/^sha256:/), bundleBytes: expect.any(Number) });
  });

  it('invokes with --data JSON, @file and stdin; --json adds the invocation id', async () => {
    const plain = await hearthCli(['invoke', 'cli-greeter', '--data', '{"who":"ada"}'], { env });
    expect(plain.code).toBe(0);
    expect(JSON.parse(plain.stdout)).toEqual({ text: 'HELLO ADA!' });

    const file = path.join(work, 'event.json');
    await writeFile(file, '{"who":"grace"}');
    expect(JSON.parse((await hearthCli(['invoke', 'cli-greeter', '-d', `@${file}`], { env })).stdout)).toEqual({ text: 'HELLO GRACE!' });
    expect(JSON.parse((await hearthCli(['invoke', 'cli-greeter', '-d', '@-'], { env, input: '{"who":"linus"}' })).stdout)).toEqual({ text: 'HELLO LINUS!' });

    const json = await hearthCli(['invoke', 'cli-greeter', '--json', '--data', '{"who":"x"}'], { env });
    expect(JSON.parse(json.stdout)).toEqual({ result: { text: 'HELLO X!' }, invocationId: expect.stringMatching(/^[0-9a-f-]{36}$/), coldStart: false });
  });

  it('shows a failed invocation as code and message, no stack trace, exit 1', async () => {
    const res = await hearthCli(['invoke', 'cli-greeter', '--data', '{"who":"nobody"}'], { env });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^error function_error: .*nobody to greet/m);
    expect(res.stderr).not.toMatch(/^\s+at /m);
    const json = await hearthCli(['invoke', 'cli-greeter', '--json', '--data', '{"who":"nobody"}'], { env });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: 'function_error', invocationId: expect.any(String) } });

    const missing = await hearthCli(['invoke', 'no-such-fn'], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('error not_found: function no-such-fn does not exist');
  });

  it('lists, shows the pool, and removes', async () => {
    const ls = await hearthCli(['ls', '--json'], { env });
    expect(ls.code).toBe(0);
    expect(JSON.parse(ls.stdout)).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'cli-greeter', version: 2 })]));
    expect((await hearthCli(['ls'], { env })).stdout).toMatch(/^cli-greeter\s+v2\s+[0-9a-f]{12}\s+128 MB/m);

    const pool = await hearthCli(['pool', '--json'], { env });
    expect(JSON.parse(pool.stdout)).toEqual(expect.arrayContaining([expect.objectContaining({ function: 'cli-greeter', state: 'idle', node: expect.any(String) })]));

    const nodes = await hearthCli(['nodes', '--json'], { env });
    expect(nodes.code).toBe(0);
    const listed = JSON.parse(nodes.stdout) as { id: string; url: string; containers: number }[];
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ url: h.url, containers: expect.any(Number), version: expect.any(String) });
    expect((await hearthCli(['nodes'], { env })).stdout).toMatch(/^NODE\s+URL\s+VERSION/m);

    await hearthCli(['deploy', path.join(work, 'greeter'), '--name', 'cli-doomed'], { env });
    const removed = await hearthCli(['rm', 'cli-doomed'], { env });
    expect(removed).toMatchObject({ code: 0, stdout: 'removed cli-doomed\n' });
    expect((await hearthCli(['rm', 'cli-doomed'], { env })).code).toBe(1);
  });

  it('lists versions and rolls back, or reports the missing route cleanly', async () => {
    if (!(await hasRoute('GET', '/v1/functions/cli-greeter/versions'))) {
      const res = await hearthCli(['versions', 'cli-greeter'], { env });
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/^error not_found: no route for GET/m);
      return;
    }
    const versions = await hearthCli(['versions', 'cli-greeter', '--json'], { env });
    expect(versions.code).toBe(0);
    expect(JSON.parse(versions.stdout)).toMatchObject({ current: 2, versions: expect.arrayContaining([expect.objectContaining({ version: 1 })]) });
    const back = await hearthCli(['rollback', 'cli-greeter', '1'], { env });
    expect(back).toMatchObject({ code: 0, stdout: 'cli-greeter now runs v1\n' });
    expect(JSON.parse((await hearthCli(['ls', '--json'], { env })).stdout)).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'cli-greeter', version: 1 })]));
    expect((await hearthCli(['rollback', 'cli-greeter', '99'], { env })).code).toBe(1);
  });

  it("prints an invocation's logs, or reports the missing route cleanly", async () => {
    const inv = JSON.parse((await hearthCli(['invoke', 'cli-greeter', '--json', '--data', '{"who":"logs"}'], { env })).stdout);
    const res = await hearthCli(['logs', inv.invocationId], { env });
    if (!(await hasRoute('GET', `/v1/invocations/${inv.invocationId}/logs`))) {
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/^error not_found: /m);
      return;
    }
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/stdout\s+greeting logs$/m);
  });

  it('draws progress on a terminal while deploying', async () => {
    // util-linux `script` gives the CLI a pseudo-terminal, as a user's shell would.
    const { execFile } = await import('node:child_process');
    const output = await new Promise<string>((resolve, reject) => {
      execFile('script', ['-qec', `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} deploy ${JSON.stringify(path.join(work, 'greeter'))}`, '/dev/null'], {
        env: { ...process.env, HEARTH_URL: h.url },
        timeout: 60_000,
      }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
    });
    expect(output).toContain('\r\x1b[2K');
    expect(output).toMatch(/bundling .*greeter/);
    // Earlier tests rolled the function back, so this is a new version or, run alone, an unchanged one.
    expect(output).toMatch(/deployed cli-greeter v\d+|cli-greeter v\d+ unchanged/);
  });

  it('works through a symlink in another directory, as `npm link` installs it', async () => {
    const linkDir = await mkdtemp(path.join(os.tmpdir(), 'hearth-link-'));
    try {
      await symlink(BIN, path.join(linkDir, 'hearth'));
      const res = await hearthCli(['ls', '--json'], { env, cwd: linkDir, bin: path.join(linkDir, 'hearth') });
      expect(res.code).toBe(0);
      expect(Array.isArray(JSON.parse(res.stdout))).toBe(true);
    } finally {
      await rm(linkDir, { recursive: true, force: true });
    }
  });
});
