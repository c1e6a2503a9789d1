import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';

/**
 * One JSON line per request with its id (hono's requestId middleware must run first), method,
 * path, status and time taken. Level: error for 5xx, warn for 4xx, info otherwise.
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
      invocationId: c.res.headers.get('x-hearth-invocation-id') ?? undefined,
    };
    // Written after the response: hono sends it only once every middleware has returned.
    setImmediate(() => {
      if (status >= 500) logger.error(fields, 'request failed');
      else if (status >= 400) logger.warn(fields, 'request rejected');
      else logger.info(fields, 'request');
    });
  };
}
