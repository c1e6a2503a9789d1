import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { HearthError, isRedisFull, redisFullError, type ErrorCode } from '../../errors/index.ts';
import { logInvocation, rootLogger } from '../../log/index.ts';

export function errorBody(code: ErrorCode, message: string) {
  return { error: { code, message } };
}

/**
 * Maps every error to the API's JSON shape `{"error": {"code", "message"}}`. Unknown errors become
 * `internal` with a generic message: internals (paths, stack traces) stay in the server log.
 */
export function handleError(err: Error, c: Context): Response {
  // Wherever a write met a full Redis (record, queue, catalog), the caller hears the same 503.
  if (isRedisFull(err)) err = redisFullError();
  if (err instanceof HearthError) {
    // Backpressure (429) says when to come back.
    if (err.retryAfterSeconds !== undefined) c.header('Retry-After', String(err.retryAfterSeconds));
    // An invocation that ended in an error still has a record and logs to look up.
    if (err.invocationId !== undefined) {
      c.header('x-hearth-invocation-id', err.invocationId);
      logInvocation(c, err.invocationId);
    }
    if (err.coldStart !== undefined) c.header('x-hearth-cold-start', String(err.coldStart));
    return c.json(errorBody(err.code, err.message), err.status);
  }
  if (err instanceof HTTPException && err.status === 413) {
    return c.json(errorBody('payload_too_large', err.message || 'request body too large'), 413);
  }
  rootLogger().error({ reqId: c.get('requestId'), method: c.req.method, path: c.req.path, err }, 'internal error');
  return c.json(errorBody('internal', 'internal error'), 500);
}

export function handleNotFound(c: Context): Response {
  return c.json(errorBody('not_found', `no route for ${c.req.method} ${c.req.path}`), 404);
}
