import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHearth, type TestHearth } from '../helpers/hearth.ts';
import { containerLeftovers, waitFor } from '../helpers/host.ts';

let h: TestHearth;

beforeAll(async () => {
  h = await startHearth();
});

afterAll(async () => {
  await h?.close();
});

describe('deploy and invoke', () => {
  it('answers /healthz', async () => {
    const res = await h.api('GET', '/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('deploys a single-source function and invokes it', async () => {
    const dep = await h.deploy('add', 'export default (e) => ({ sum: e.a + e.b })');
    expect(dep.status).toBe(201);
    expect(dep.body).toMatchObject({ name: 'add', version: 1, digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });

    const res = await h.invoke('add', { a: 2, b: 3 });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ sum: 5 });
    expect(res.headers.get('x-hearth-invocation-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get('x-hearth-cold-start')).toBe('true');
  });

  it('serves the second invoke from the same warm container', async () => {
    await h.deploy('counter', 'let n = 0; export default () => ({ n: ++n, pid: process.pid })');
    const first = await h.invoke('counter', {});
    const second = await h.invoke('counter', {});
    expect(first.headers.get('x-hearth-cold-start')).toBe('true');
    expect(second.headers.get('x-hearth-cold-start')).toBe('false');
    // Module state survives between invocations: the same process served both.
    expect(second.body).toEqual({ n: 2, pid: first.body.pid });
    const pool = await h.api('GET', '/v1/pool');
    const mine = pool.body.containers.filter((c: { function: string }) => c.function === 'counter');
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ state: 'idle', invocations: 2, version: 1 });
  });

  it('accepts a multi-file TypeScript deploy with an explicit entry', async () => {
    const res = await h.api('POST', '/v1/functions', {
      name: 'greeter',
      entry: 'main.ts',
      files: {
        'main.ts': "import { greet } from './lib/greet.ts';\nexport const handler = async (e: { who: string }) => greet(e.who);",
        'lib/greet.ts': 'export function greet(who: string): { text: string } { return { text: `hi ${who}` }; }',
      },
    });
    expect(res.status).toBe(201);
    expect((await h.invoke('greeter', { who: 'Grace' })).body).toEqual({ text: 'hi Grace' });
  });

  it('lists, describes and deletes functions', async () => {
    await h.deploy('doomed', 'export default () => 1');
    const list = await h.api('GET', '/v1/functions');
    expect(list.body.functions.map((f: { name: string }) => f.name)).toContain('doomed');
    const one = await h.api('GET', '/v1/functions/doomed');
    expect(one.body).toMatchObject({ name: 'doomed', version: 1, config: { memoryMb: 128, timeoutMs: 30000 } });
    expect((await h.api('DELETE', '/v1/functions/doomed')).status).toBe(204);
    expect((await h.api('GET', '/v1/functions/doomed')).status).toBe(404);
    expect((await h.invoke('doomed', {})).status).toBe(404);
    expect((await h.api('DELETE', '/v1/functions/doomed')).status).toBe(404);
  });

  it('gives a redeploy a new version, and invokes run the new code', async () => {
    await h.deploy('evolving', 'export default () => "one"');
    expect((await h.invoke('evolving')).body).toBe('one');
    const dep = await h.deploy('evolving', 'export default () => "two"');
    expect(dep.body.version).toBe(2);
    expect((await h.invoke('evolving')).body).toBe('two');
  });
});

describe('inside the container', () => {
  it('is isolated: own pid 1 init, own hostname, loopback only, read-only rootfs, writable /tmp, no capabilities', async () => {
    const source = `
      import fs from 'node:fs';
      import os from 'node:os';
      function tryWrite(p) { try { fs.writeFileSync(p, 'x'); return 'ok'; } catch (e) { return e.code; } }
      export default () => ({
        pid1: fs.readFileSync('/proc/1/cmdline', 'utf8').split('\\0')[0],
        hostname: os.hostname(),
        interfaces: Object.keys(os.networkInterfaces()),
        netdevs: fs.readFileSync('/proc/net/dev', 'utf8').split('\\n').slice(2).filter(Boolean).map((l) => l.trim().split(':')[0]),
        uid: process.getuid(),
        capEff: fs.readFileSync('/proc/self/status', 'utf8').match(/CapEff:\\s+(\\w+)/)[1],
        writeRoot: tryWrite('/etc/evil'),
        writeFunction: tryWrite('/function/evil'),
        writeTmp: tryWrite('/tmp/fine'),
        shadow: fs.existsSync('/etc/shadow'),
      });`;
    expect((await h.deploy('inspect', source, { memoryMb: 128 })).status).toBe(201);
    const res = await h.invoke('inspect', {});
    expect(res.status).toBe(200);
    expect(res.body.pid1).toMatch(/tini$/);
    expect(res.body.hostname).toBe('inspect');
    expect(res.body.netdevs).toEqual(['lo']);
    expect(res.body.interfaces.every((i: string) => i === 'lo')).toBe(true);
    expect(res.body.uid).not.toBe(0);
    expect(res.body.capEff).toBe('0000000000000000');
    expect(res.body.writeRoot).toMatch(/EROFS|EACCES/);
    expect(res.body.writeFunction).toMatch(/EROFS|EACCES/);
    expect(res.body.writeTmp).toBe('ok');
    expect(res.body.shadow).toBe(false);
  });

  it('gives the handler its context', async () => {
    await h.deploy('ctx', 'export const handler = async (e, ctx) => ctx');
    const res = await h.invoke('ctx', {});
    expect(res.body).toMatchObject({ functionName: 'ctx', version: 1, invocationId: res.headers.get('x-hearth-invocation-id') });
    expect(res.body.deadline).toBeGreaterThan(Date.now());
  });
});

describe('failures get clear answers', () => {
  it('a function that throws answers 500 function_error with its message, and the next call works', async () => {
    await h.deploy('flaky', 'export default (e) => { if (e.fail) throw new Error("bad input: " + e.fail); return { ok: true }; }');
    const bad = await h.invoke('flaky', { fail: 'nope' });
    expect(bad.status).toBe(500);
    expect(bad.body).toEqual({ error: { code: 'function_error', message: 'bad input: nope' } });
    const good = await h.invoke('flaky', {});
    expect(good.status).toBe(200);
    expect(good.body).toEqual({ ok: true });
    expect(good.headers.get('x-hearth-cold-start')).toBe('false');
  });

  it('an unknown function is 404 not_found', async () => {
    const res = await h.invoke('no-such-fn', {});
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });

  it('bad JSON in an invoke is 400 invalid_request', async () => {
    await h.deploy('echo', 'export default (e) => e');
    const res = await h.api('POST', '/v1/functions/echo/invoke', '{"a":', { 'content-type': 'application/json' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    expect(res.body.error.message).toMatch(/JSON/);
  });

  it('an invoke body over 6 MB is 413 payload_too_large', async () => {
    await h.deploy('echo2', 'export default (e) => e');
    const res = await h.api('POST', '/v1/functions/echo2/invoke', JSON.stringify({ big: 'x'.repeat(7 * 1024 * 1024) }));
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
  });

  it('bad deploy bodies are 400 invalid_request saying what is wrong', async () => {
    const cases: [unknown, RegExp][] = [
      [{ source: 'export default () => 1' }, /name/],
      [{ name: 'Bad Name!', source: 'x' }, /name/],
      [{ name: 'both', source: 'x', files: { 'a.js': 'x' } }, /exactly one/],
      [{ name: 'cfg', source: 'export default () => 1', config: { memoryMb: 'lots' } }, /config\.memoryMb/],
      [{ name: 'cfg2', source: 'export default () => 1', config: { unknownKey: 1 } }, /unknownKey/],
      [{ name: 'traversal', files: { '../../etc/passwd': 'x' } }, /path|\.\./],
    ];
    for (const [body, why] of cases) {
      const res = await h.api('POST', '/v1/functions', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
      expect(res.body.error.message).toMatch(why);
    }
    const notJson = await h.api('POST', '/v1/functions', 'name=x');
    expect(notJson.status).toBe(400);
  });

  it('code that does not compile is 400 with esbuild\'s message', async () => {
    const res = await h.deploy('broken', 'export default () => { return 1 +; }');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    expect(res.body.error.message).toMatch(/index\.ts:1:\d+/);
    const unresolved = await h.deploy('unresolved', "import x from 'not-a-real-package'; export default () => x");
    expect(unresolved.status).toBe(400);
    expect(unresolved.body.error.message).toMatch(/not-a-real-package/);
    expect((await h.api('GET', '/v1/functions/broken')).status).toBe(404);
  });

  it('a module that throws at load is a function_error on invoke', async () => {
    await h.deploy('bad-init', 'throw new Error("cannot start: missing config"); export default () => 1');
    const res = await h.invoke('bad-init', {});
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('function_error');
    expect(res.body.error.message).toMatch(/cannot start: missing config/);
  });

  it('running past timeoutMs is 504 timeout; the container is killed and replaced', async () => {
    await h.deploy('sleepy', 'export default (e) => { if (e.spin) { while (true) {} } return { pid: process.pid }; }', { timeoutMs: 1000 });
    const warm = await h.invoke('sleepy', {});
    expect(warm.status).toBe(200);
    const before = (await h.api('GET', '/v1/pool')).body.containers.find((c: { function: string }) => c.function === 'sleepy');
    const started = Date.now();
    const res = await h.invoke('sleepy', { spin: true });
    expect(res.status).toBe(504);
    expect(res.body.error.code).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(5000);
    await waitFor(async () => (await containerLeftovers(h, before.id)).length === 0, 5000);
    const after = await h.invoke('sleepy', {});
    expect(after.status).toBe(200);
    expect(after.headers.get('x-hearth-cold-start')).toBe('true');
  });

  it('errors in one function do not affect later invocations of others', async () => {
    expect((await h.invoke('add', { a: 40, b: 2 })).body).toEqual({ sum: 42 });
  });
});

describe('the pool', () => {
  it('reaps a container idle longer than idleTimeoutMs: runc container, mount and cgroup gone', async () => {
    await h.deploy('brief', 'export default () => "hi"', { idleTimeoutMs: 1500 });
    expect((await h.invoke('brief')).status).toBe(200);
    const entry = (await h.api('GET', '/v1/pool')).body.containers.find((c: { function: string }) => c.function === 'brief');
    expect(entry).toBeDefined();
    expect(await containerLeftovers(h, entry.id)).not.toHaveLength(0);
    await waitFor(async () => (await containerLeftovers(h, entry.id)).length === 0, 10_000);
    const pool = await h.api('GET', '/v1/pool');
    expect(pool.body.containers.some((c: { id: string }) => c.id === entry.id)).toBe(false);
  });

  it('runs up to maxContainers containers of a function at once', async () => {
    await h.deploy('slow', 'const me = Math.random(); export default async () => { await new Promise((r) => setTimeout(r, 400)); return me; }', { maxContainers: 2 });
    const results = await Promise.all([1, 2, 3, 4].map(() => h.invoke('slow', {})));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(new Set(results.map((r) => r.body)).size).toBe(2);
    const pool = await h.api('GET', '/v1/pool');
    expect(pool.body.containers.filter((c: { function: string }) => c.function === 'slow')).toHaveLength(2);
  });
});
