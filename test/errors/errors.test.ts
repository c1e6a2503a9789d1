import { describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { HearthError } from '../../src/errors/index.ts';
import { handleError, handleNotFound } from '../../src/gateway/middleware/error-handler.ts';
import { limitBody } from '../../src/gateway/middleware/body-limit.ts';

function appThrowing(err: Error): Hono {
  const app = new Hono();
  app.onError(handleError);
  app.notFound(handleNotFound);
  app.get('/boom', () => { throw err; });
  app.post('/small', limitBody(10), async (c) => c.text(await c.req.text()));
  return app;
}

describe('error mapping', () => {
  it.each([
    ['invalid_request', 400],
    ['not_found', 404],
    ['overloaded', 429],
    ['function_error', 500],
    ['out_of_memory', 500],
    ['timeout', 504],
    ['unavailable', 503],
  ] as const)('%s answers %i with the JSON error shape', async (code, status) => {
    const res = await appThrowing(new HearthError(code, 'why')).request('/boom');
    expect(res.status).toBe(status);
    expect(await res.json()).toEqual({ error: { code, message: 'why' } });
  });

  it('hides the details of unexpected errors', async () => {
    const res = await appThrowing(new Error('/secret/path exploded')).request('/boom');
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: { code: 'internal', message: 'internal error' } });
  });

  it('answers unknown routes with not_found', async () => {
    const res = await appThrowing(new Error('x')).request('/nope');
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe('not_found');
  });

  it('answers oversized bodies with payload_too_large', async () => {
    const res = await appThrowing(new Error('x')).request('/small', { method: 'POST', body: 'x'.repeat(100) });
    expect(res.status).toBe(413);
    expect((await res.json()).error.code).toBe('payload_too_large');
  });
});
