import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { HearthError, type ErrorCode } from '../../errors/index.ts';
import { rootLogger } from '../../log/index.ts';

export function errorBody(code: ErrorCode, message: string) {
  return { error: { code, message } };
}

/**
 * Maps every error to the API's JSON shape `{"error": {"code", "message"}}`. Unknown errors become
 * `internal` with a generic message: internals (paths, stack traces) stay in the server log.
 */
export function handleError(err: Error, c: Context): Response {
  if (err instanceof HearthError) {
    // Backpressure (429) says when to come back.
    if (err.retryAfterSeconds !== undefined) c.header('Retry-After', String(err.retryAfterSeconds));
    // An invocation that ended in an error still has a record and logs to look up.
    if (err.invocationId !== undefined) c.header('x-hearth-invocation-id', err.invocationId);
    if (err.coldStart !== undefined) c.header('x-hearth-cold-start', String(err.coldStart));
    return c.json(errorBody(err.code, err.message), err.status);
  }
  if (isRedisFull(err)) {
    // noeviction at maxmemory: Redis refuses writes; reads keep working and nothing queued is lost.
    c.header('Retry-After', '5');
    return c.json(errorBody('unavailable', 'Redis is full (maxmemory reached): new work is refused until records expire or the limit is raised'), 503);
  }
  if (err instanceof HTTPException && err.status === 413) {
    return c.json(errorBody('payload_too_large', err.message || 'request body too large'), 413);
  }
  rootLogger().error({ reqId: c.get('requestId'), method: c.req.method, path: c.req.path, err }, 'internal error');
  return c.json(errorBody('internal', 'internal error'), 500);
}

/** Redis' answer to a write beyond `maxmemory` under noeviction. */
function isRedisFull(err: Error): boolean {
  return err.message.startsWith('OOM command not allowed');
}

export function handleNotFound(c: Context): Response {
  return c.json(errorBody('not_found', `no route for ${c.req.method} ${c.req.path}`), 404);
}
