import http from 'node:http';
import { Hono } from 'hono';
import { serveApp, type ServedApp } from '../helpers/served-app.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestHeader } from '../../src/gateway/request-header.ts';

const NAMES = ['idempotency-key', 'x-custom', 'content-length', 'absent'];

function app(): Hono {
  const a = new Hono();
  a.post('/h', (c) => c.json({ ours: NAMES.map((n) => requestHeader(c, n) ?? null), hono: NAMES.map((n) => c.req.header(n) ?? null) }));
  return a;
}

/** A POST with the headers as given; an array value goes out as one header line each (fetch would merge them). */
function post(url: string, headers: http.OutgoingHttpHeaders): Promise<{ ours: unknown[]; hono: unknown[] }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/h`, { method: 'POST', headers });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(JSON.parse(body) as { ours: unknown[]; hono: unknown[] }));
    });
    req.on('error', reject);
    req.end('{}');
  });
}

describe('requestHeader', () => {
  let served: ServedApp;
  beforeAll(async () => void (served = await serveApp(app())));
  afterAll(() => served.close());

  it("reads what c.req.header reads, from node's headers, repeats joined", async () => {
    const got = await post(served.url, { 'Idempotency-Key': 'k1', 'X-Custom': ['a', 'b'], 'Content-Length': '2' });
    expect(got.ours).toEqual(['k1', 'a, b', '2', null]);
    expect(got.ours).toEqual(got.hono);
  });

  it('falls back to c.req.header without a node request (app.request)', async () => {
    const res = await app().request('/h', { method: 'POST', headers: { 'idempotency-key': 'k2', 'x-custom': 'c' }, body: '{}' });
    const got = (await res.json()) as { ours: unknown[]; hono: unknown[] };
    expect(got.ours.slice(0, 2)).toEqual(['k2', 'c']);
    expect(got.ours).toEqual(got.hono);
  });
});
