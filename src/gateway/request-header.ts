import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context } from 'hono';

/** What @hono/node-server puts in `c.env`; absent under `app.request()` (tests). */
export interface NodeBindings {
  incoming?: IncomingMessage;
  outgoing?: ServerResponse;
}

/**
 * A request header as `c.req.header(name)` gives it (repeats joined with ", "), read from node's
 * parsed headers when node-server serves the request: `c.req.header` first builds a web Headers
 * of every header the request has (~2 µs and a kilobyte), on each of the API's hot paths.
 * `name` is lower case.
 */
export function requestHeader(c: Context, name: string): string | undefined {
  const incoming = (c.env as NodeBindings | undefined)?.incoming;
  if (!incoming) return c.req.header(name);
  const value = incoming.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}
