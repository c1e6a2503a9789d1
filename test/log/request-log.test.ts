import { Writable } from 'node:stream';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { createLogger, logInvocation, requestLog } from '../../src/log/index.ts';
import { requestId } from '../../src/gateway/middleware/request-id.ts';

function logged(): { lines: Record<string, unknown>[]; app: Hono } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const app = new Hono();
  app.use(requestId(), requestLog(createLogger('info', sink)));
  app.post('/invoke', (c) => {
    logInvocation(c, 'inv-1');
    return new Response('null', { headers: { 'content-type': 'application/json', 'x-hearth-invocation-id': 'inv-1' } });
  });
  app.get('/plain', (c) => c.json({}));
  app.get('/missing', (c) => c.json({ error: 'x' }, 404));
  return { lines, app };
}

const settled = () => new Promise((r) => setTimeout(r, 20));

describe('requestLog', () => {
  it('writes one line per request with its id, status, time and the invocation a route named', async () => {
    const { lines, app } = logged();
    await app.request('/invoke', { method: 'POST', headers: { 'x-request-id': 'req-1' } });
    await app.request('/plain');
    await app.request('/missing');
    await settled();
    expect(lines).toEqual([
      expect.objectContaining({ level: 'info', msg: 'request', reqId: 'req-1', method: 'POST', path: '/invoke', status: 200, invocationId: 'inv-1', ms: expect.any(Number), time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) }),
      expect.objectContaining({ level: 'info', path: '/plain', status: 200 }),
      expect.objectContaining({ level: 'warn', msg: 'request rejected', path: '/missing', status: 404 }),
    ]);
    expect(lines[1]).not.toHaveProperty('invocationId');
  });
});
