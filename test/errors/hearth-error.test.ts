import { describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { HearthError } from '../../src/errors/index.ts';
import { handleError } from '../../src/gateway/middleware/error-handler.ts';

function answer(err: Error): Promise<Response> | Response {
  const app = new Hono();
  app.onError(handleError);
  app.get('/boom', () => { throw err; });
  return app.request('/boom');
}

describe('HearthError options', () => {
  it('carries the invocation it ended and answers with its id and cold start', async () => {
    const err = new HearthError('timeout', 'no answer', { invocationId: 'inv-7', coldStart: true });
    expect(err).toMatchObject({ code: 'timeout', status: 504, invocationId: 'inv-7', coldStart: true });
    const res = await answer(err);
    expect(res.status).toBe(504);
    expect(res.headers.get('x-hearth-invocation-id')).toBe('inv-7');
    expect(res.headers.get('x-hearth-cold-start')).toBe('true');
    expect(await res.json()).toEqual({ error: { code: 'timeout', message: 'no answer' } });
  });

  it('sends Retry-After when the caller is told to come back', async () => {
    const res = await answer(new HearthError('overloaded', 'full', { retryAfterSeconds: 1 }));
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('1');
  });

  it('adds no invocation headers to an error that belongs to no invocation', async () => {
    const res = await answer(new HearthError('not_found', 'nope'));
    expect(res.headers.get('x-hearth-invocation-id')).toBeNull();
    expect(res.headers.get('x-hearth-cold-start')).toBeNull();
    expect(res.headers.get('retry-after')).toBeNull();
  });
});
