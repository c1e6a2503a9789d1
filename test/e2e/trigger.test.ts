import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHearth, type TestHearth } from '../helpers/hearth.ts';
import { waitFor } from '../helpers/host.ts';

let h: TestHearth;

beforeAll(async () => {
  h = await startHearth();
  await h.hearth.functions!.deploy({ name: 'hono-app', source: { kind: 'dir', dir: path.resolve('functions/hono-app') }, config: { env: { GREETING: 'Howdy' } } });
});

afterAll(async () => {
  await h?.close();
});

describe('HTTP trigger', () => {
  it('serves a Hono app\'s routes, with the config env as the fetch handler\'s env', async () => {
    const res = await fetch(`${h.url}/fn/hono-app/hello/Ada`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(res.headers.get('x-hearth-invocation-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get('x-hearth-cold-start')).toBe('true');
    expect(await res.json()).toEqual({ message: 'Howdy, Ada!' });

    const echo = await fetch(`${h.url}/fn/hono-app/echo`, { method: 'POST', body: JSON.stringify({ a: [1, 2] }), headers: { 'content-type': 'application/json' } });
    expect(await echo.json()).toEqual({ received: { a: [1, 2] }, contentType: 'application/json' });
    expect(echo.headers.get('x-hearth-cold-start')).toBe('false');

    // The app's own 404, not Hearth's.
    const missing = await fetch(`${h.url}/fn/hono-app/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe('404 Not Found');
  });

  it('streams the body while the function is still writing it', async () => {
    const res = await fetch(`${h.url}/fn/hono-app/countdown?from=5`);
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    const chunks: string[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(decoder.decode(value));
    }
    // The function sleeps 100 ms between lines: a buffered response would arrive as one chunk.
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks[0]).not.toContain('liftoff');
    expect(chunks.join('')).toBe('5\n4\n3\n2\n1\nliftoff\n');
  });

  it('passes method, path, query, headers and body to a fetch handler and returns status and headers', async () => {
    await h.deploy(
      'raw-fetch',
      `export default { async fetch(req, env, ctx) {
        const u = new URL(req.url);
        console.log('serving', req.method, u.pathname);
        return new Response(JSON.stringify({ method: req.method, path: u.pathname, q: u.searchParams.get('q'), h: req.headers.get('x-test'), body: await req.text(), foo: env.FOO, fn: ctx.functionName }),
          { status: 201, headers: { 'x-custom': 'yes', 'content-type': 'application/json' } });
      } }`,
      { env: { FOO: 'bar' } },
    );
    const res = await fetch(`${h.url}/fn/raw-fetch/a/b?q=1`, { method: 'PUT', body: 'payload', headers: { 'x-test': 'hdr' } });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-custom')).toBe('yes');
    expect(await res.json()).toEqual({ method: 'PUT', path: '/a/b', q: '1', h: 'hdr', body: 'payload', foo: 'bar', fn: 'raw-fetch' });

    // The invocation is recorded with its logs.
    const id = res.headers.get('x-hearth-invocation-id')!;
    let record: any;
    await waitFor(async () => {
      record = (await h.api('GET', `/v1/invocations/${id}`)).body;
      return record?.status === 'succeeded';
    }, 5000);
    expect(record).toMatchObject({ function: 'raw-fetch', trigger: 'http', status: 'succeeded' });
    expect((await h.api('GET', `/v1/invocations/${id}/logs`)).body.logs.map((l: { line: string }) => l.line)).toEqual(['serving PUT /a/b']);

    const root = await fetch(`${h.url}/fn/raw-fetch`);
    expect((await root.json()).path).toBe('/');
  });

  it('gives a plain handler the request as a JSON event and returns its value as JSON', async () => {
    await h.deploy('plain-http', 'export default (e) => ({ got: e })');
    const res = await fetch(`${h.url}/fn/plain-http/items/7?sort=asc`, { method: 'POST', body: JSON.stringify({ x: 1 }), headers: { 'content-type': 'application/json', 'x-k': 'v' } });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.got).toMatchObject({ method: 'POST', path: '/items/7', query: { sort: 'asc' }, body: { x: 1 } });
    expect(body.got.headers['x-k']).toBe('v');
  });

  it('carries large bodies both ways and answers HEAD and 204 without a body', async () => {
    await h.deploy('big', `export default { async fetch(req) {
      if (req.method === 'DELETE') return new Response(null, { status: 204 });
      const body = await req.arrayBuffer();
      return new Response('y'.repeat(1_000_000) + body.byteLength, { headers: { 'content-type': 'text/plain' } });
    } }`);
    const res = await fetch(`${h.url}/fn/big/`, { method: 'POST', body: 'x'.repeat(3_000_000) });
    const text = await res.text();
    expect(text.length).toBe(1_000_000 + 7);
    expect(text.endsWith('3000000')).toBe(true);
    expect((await fetch(`${h.url}/fn/big/`, { method: 'DELETE' })).status).toBe(204);
    const head = await fetch(`${h.url}/fn/big/`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const tooBig = await fetch(`${h.url}/fn/big/`, { method: 'POST', body: 'x'.repeat(7 * 1024 * 1024) });
    expect(tooBig.status).toBe(413);
  });

  it('maps failures to JSON errors and 404s unknown functions', async () => {
    await h.deploy('throws-http', 'export default { fetch() { throw new Error("kaboom"); } }');
    const res = await fetch(`${h.url}/fn/throws-http/`);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: { code: 'function_error', message: 'kaboom' } });
    const missing = await fetch(`${h.url}/fn/does-not-exist/`);
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.code).toBe('not_found');
    // A fetch handler invoked as an event handler says where to go instead.
    const sync = await h.invoke('throws-http', {});
    expect(sync.body.error.message).toMatch(/\/fn\/throws-http\//);
  });
});
