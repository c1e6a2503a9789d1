import { getConnInfo } from '@hono/node-server/conninfo';
import { Hono, type Context } from 'hono';
import type { GatewayServices } from '../services.ts';
import { logInvocation } from '../../log/index.ts';
import { limitBody, MB } from '../middleware/body-limit.ts';
import { nameParam } from './functions.ts';

/** The peer's address; undefined when the request did not come through a socket (app.request in tests). */
function peerAddress(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined;
  }
}

/**
 * The gateway proxies to the function, so it appends the client's address to X-Forwarded-For
 * the way proxies do: the last entry is the one to trust (Lambda events call it sourceIp).
 */
export function withForwardedFor(headers: [string, string][], peer: string | undefined): [string, string][] {
  if (!peer) return headers;
  const i = headers.findIndex(([k]) => k.toLowerCase() === 'x-forwarded-for');
  if (i === -1) return [...headers, ['x-forwarded-for', peer]];
  const out = [...headers];
  out[i] = [out[i]![0], `${out[i]![1]}, ${peer}`];
  return out;
}

/** Statuses whose responses must not carry a body. */
const NO_BODY = new Set([101, 204, 205, 304]);

/**
 * `ANY /fn/:name/*`: the HTTP trigger. The request (method, path after the prefix, query,
 * headers, body) goes to the function; its response (status, headers, streamed body) comes back.
 */
export function triggerRoutes(services: GatewayServices): Hono {
  const app = new Hono();

  const handle = async (c: Context): Promise<Response> => {
    const name = nameParam(c.req.param('name') ?? '');
    const url = new URL(c.req.url);
    const prefix = `/fn/${name}`;
    const path = url.pathname.length > prefix.length ? url.pathname.slice(prefix.length) : '/';
    const received: [string, string][] = [];
    c.req.raw.headers.forEach((value, key) => received.push([key, value]));
    const headers = withForwardedFor(received, peerAddress(c));
    const raw = c.req.method === 'GET' || c.req.method === 'HEAD' ? undefined : new Uint8Array(await c.req.arrayBuffer());
    // A failed invocation throws a HearthError carrying its id; the error handler answers it.
    const res = await services.trigger.handle(name, { method: c.req.method, path, search: url.search, headers, body: raw });
    const out = new Headers();
    for (const [k, v] of res.headers) out.append(k, v);
    out.set('x-hearth-invocation-id', res.invocationId);
    logInvocation(c, res.invocationId);
    out.set('x-hearth-cold-start', String(res.coldStart));
    const noBody = NO_BODY.has(res.status) || c.req.method === 'HEAD';
    if (noBody) void res.body.cancel().catch(() => undefined);
    return new Response(noBody ? null : res.body, { status: res.status, headers: out });
  };

  app.all('/:name', limitBody(6 * MB), handle);
  app.all('/:name/*', limitBody(6 * MB), handle);
  return app;
}
