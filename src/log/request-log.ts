import type { Context, MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';

declare module 'hono' {
  interface ContextVariableMap {
    /** The invocation a request started or asked about: on its log line. */
    invocationId: string;
  }
}

/**
 * Puts the invocation on the request's log line. Kept in the context, not read back from the
 * response's x-hearth-invocation-id header: reading a response's headers makes node-server build
 * a web Headers of them, which the response then has to be converted back from.
 */
export function logInvocation(c: Context, invocationId: string): void {
  c.set('invocationId', invocationId);
}

/**
 * One JSON line per request with its id (a requestId middleware must run first), method,
 * path, status, time taken and the invocation (`logInvocation`). Level: error for 5xx, warn for
 * 4xx, info otherwise.
 *
 * @example
 * app.use(requestId(), requestLog(rootLogger()));
 */
export function requestLog(logger: Logger): MiddlewareHandler {
  return async function logRequest(c, next) {
    const started = performance.now();
    await next();
    const status = c.res.status;
    const fields = {
      reqId: c.get('requestId'),
      method: c.req.method,
      path: c.req.path,
      status,
      ms: Math.round((performance.now() - started) * 10) / 10,
      invocationId: c.get('invocationId'),
    };
    // Written after the response: hono sends it only once every middleware has returned.
    setImmediate(() => {
      if (status >= 500) logger.error(fields, 'request failed');
      else if (status >= 400) logger.warn(fields, 'request rejected');
      else logger.info(fields, 'request');
    });
  };
}
