import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { requestHeader, type NodeBindings } from '../request-header.ts';

declare module 'hono' {
  interface ContextVariableMap {
    /** The request's id: the caller's X-Request-Id when it is a sane one, else a new UUID. */
    requestId: string;
  }
}

const HEADER = 'x-request-id';
const MAX_LENGTH = 255;
const SANE = /^[\w\-=]+$/;

/**
 * hono's requestId contract (X-Request-Id taken from the caller when it is at most 255 word
 * characters, `-` or `=`, else a UUID; `c.get('requestId')`; echoed in the response), without
 * touching web Headers on a node server: the caller's id is read from node's parsed headers and
 * the echo set on node's response, which merges it into whatever the route answers (a header of
 * the same name in the route's answer wins, as a function's own behind an HTTP trigger). hono's
 * middleware built an undici Headers for the request and another for the response (c.header),
 * which every response then had to be converted back from: a few µs and ~2 KB per request.
 */
export function requestId(): MiddlewareHandler {
  return function requestIdMiddleware(c, next) {
    const given = requestHeader(c, HEADER);
    const id = given !== undefined && given.length <= MAX_LENGTH && SANE.test(given) ? given : randomUUID();
    c.set('requestId', id);
    const outgoing = (c.env as NodeBindings | undefined)?.outgoing;
    if (outgoing && typeof outgoing.setHeader === 'function') {
      outgoing.setHeader('X-Request-Id', id);
      return next();
    }
    // Without a node response: on whatever the route answered (a Response it built included).
    return next().then(() => {
      if (!c.res.headers.has(HEADER)) c.header('X-Request-Id', id);
    });
  };
}
