import { Hono } from 'hono';
import { serveApp, type ServedApp } from '../helpers/served-app.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestId } from '../../src/gateway/middleware/request-id.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function app(): Hono {
  const a = new Hono();
  a.use(requestId());
  a.get('/json', (c) => c.json({ id: c.get('requestId') }));
  // A route answering with a Response it built, plain headers and all (as the invoke route does).
  a.get('/own', (c) => new Response(JSON.stringify({ id: c.get('requestId') }), { headers: { 'content-type': 'application/json', 'x-extra': '1' } }));
  a.get('/overrides', () => new Response('{}', { headers: { 'x-request-id': 'from-the-function' } }));
  return a;
}

/** Each case: the X-Request-Id sent (or none), and whether it comes back as given. */
const CASES: [string | undefined, boolean][] = [
  ['abc-123_X=', true],
  [undefined, false],
  ['', false],
  ['has space', false],
  ['semi;colon', false],
  ['x'.repeat(255), true],
  ['x'.repeat(256), false],
];

async function check(call: (path: string, headers: Record<string, string>) => Promise<Response>): Promise<void> {
  for (const path of ['/json', '/own']) {
    for (const [given, kept] of CASES) {
      const res = await call(path, given === undefined ? {} : { 'x-request-id': given });
      const echoed = res.headers.get('x-request-id');
      const body = (await res.json()) as { id: string };
      expect(echoed, `${path} ${given}`).toBe(body.id);
      if (kept) expect(echoed).toBe(given);
      else expect(echoed).toMatch(UUID);
    }
  }
}

describe('requestId', () => {
  it('keeps a sane caller id, else makes a UUID, and echoes it (app.request, no node response)', async () => {
    const a = app();
    await check((path, headers) => Promise.resolve(a.request(path, { headers })));
    expect((await a.request('/own')).headers.get('x-extra')).toBe('1');
    expect((await a.request('/overrides', { headers: { 'x-request-id': 'from-the-caller' } })).headers.get('x-request-id')).toBe('from-the-function');
  });

  describe('served by @hono/node-server', () => {
    let served: ServedApp;
    beforeAll(async () => void (served = await serveApp(app())));
    afterAll(() => served.close());

    it('does the same through node: read from node headers, echoed on the node response', async () => {
      await check((path, headers) => fetch(`${served.url}${path}`, { headers }));
      const own = await fetch(`${served.url}/own`);
      expect([own.headers.get('x-extra'), own.headers.get('content-type')]).toEqual(['1', 'application/json']);
    });

    it("lets a route's own X-Request-Id win", async () => {
      const res = await fetch(`${served.url}/overrides`, { headers: { 'x-request-id': 'from-the-caller' } });
      expect(res.headers.get('x-request-id')).toBe('from-the-function');
    });
  });
});
