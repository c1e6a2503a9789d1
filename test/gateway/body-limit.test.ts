/** The body limit on a real @hono/node-server: by Content-Length when there is one, counted when chunked. */
import http from 'node:http';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limitBody } from '../../src/gateway/middleware/body-limit.ts';
import { handleError } from '../../src/gateway/middleware/error-handler.ts';
import { serveApp, type ServedApp } from '../helpers/served-app.ts';

const LIMIT = 1024;
let served: ServedApp;
let port: number;

beforeAll(async () => {
  const app = new Hono();
  app.onError(handleError);
  app.post('/echo', limitBody(LIMIT), async (c) => c.text(await c.req.text()));
  served = await serveApp(app);
  port = served.port;
});

afterAll(() => served.close());

/** POSTs `body` in one piece (Content-Length) or in 100-byte chunks (Transfer-Encoding: chunked). */
function post(body: string, chunked: boolean): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': Buffer.byteLength(body) };
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/echo', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    // The server may answer 413 and close before the whole body is sent.
    req.on('error', reject);
    if (chunked) for (let i = 0; i < body.length; i += 100) req.write(body.slice(i, i + 100));
    else req.write(body);
    req.end();
  });
}

describe('limitBody', () => {
  for (const chunked of [false, true]) {
    const how = chunked ? 'chunked' : 'with Content-Length';
    it(`passes a body at the limit through unchanged (${how})`, async () => {
      const body = 'x'.repeat(LIMIT);
      expect(await post(body, chunked)).toEqual({ status: 200, text: body });
    });

    it(`answers 413 payload_too_large to a body over the limit (${how})`, async () => {
      const res = await post('x'.repeat(LIMIT + 1), chunked);
      expect(res.status).toBe(413);
      expect(JSON.parse(res.text)).toMatchObject({ error: { code: 'payload_too_large' } });
    });
  }
});
