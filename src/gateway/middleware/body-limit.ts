import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HearthError } from '../../errors/index.ts';
import { requestHeader } from '../request-header.ts';

/**
 * hono's body limit, answering with our `payload_too_large` error. A body with a Content-Length
 * (and no Transfer-Encoding) is judged by that header alone, before hono's middleware would touch
 * `c.req.raw.body`: on @hono/node-server that builds a full web Request with a web stream around
 * the socket, about a sixth of a warm invoke's CPU, where reading the body later through
 * `c.req.text()` goes straight to the node request. Node's HTTP parser already ends a body at
 * its Content-Length, so the header can be trusted. Chunked bodies are counted as they stream.
 */
export function limitBody(maxBytes: number): MiddlewareHandler {
  const tooLarge = () => {
    throw new HearthError('payload_too_large', `request body exceeds ${maxBytes} bytes`);
  };
  const streamed = bodyLimit({ maxSize: maxBytes, onError: tooLarge });
  return async function limitBodySize(c, next) {
    const length = requestHeader(c, 'content-length');
    if (length !== undefined && requestHeader(c, 'transfer-encoding') === undefined) {
      if (Number.parseInt(length, 10) > maxBytes) tooLarge();
      return next();
    }
    return streamed(c, next);
  };
}

export const MB = 1024 * 1024;
