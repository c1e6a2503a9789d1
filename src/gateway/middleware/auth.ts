/**
 * API-key auth. With HEARTH_API_KEY set, every /v1 request must carry `Authorization: Bearer <key>`;
 * /fn/ (HTTP trigger) routes stay public unless the function's config says `"auth": "key"`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { HearthError } from '../../errors/index.ts';
import { requestHeader } from '../request-header.ts';

const BEARER = /^Bearer[ ]+(\S+)[ ]*$/i;

/**
 * Constant-time: both sides are hashed first, so the comparison never depends on where they
 * differ nor leaks the key's length.
 */
export function keyMatches(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The token of an `Authorization: Bearer …` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  return header ? BEARER.exec(header)?.[1] : undefined;
}

function deny(c: Context, message: string): never {
  // The header tells clients which scheme to use; hono keeps it on the error response.
  c.header('WWW-Authenticate', 'Bearer realm="hearth"');
  throw new HearthError('unauthorized', message);
}

function check(c: Context, apiKey: string): void {
  const token = bearerToken(requestHeader(c, 'authorization'));
  if (token === undefined) deny(c, 'missing "Authorization: Bearer <key>" header');
  if (!keyMatches(token, apiKey)) deny(c, 'invalid API key');
}

/**
 * Guards the management API. Without a key it lets everything through (Hearth then refuses to
 * listen anywhere but loopback, see config/settings.ts).
 *
 * @example
 * app.use('/v1/*', requireApiKey({ apiKey: settings.apiKey }));
 */
export function requireApiKey(opts: { apiKey: string | undefined }): MiddlewareHandler {
  const { apiKey } = opts;
  return async function apiKeyAuth(c, next) {
    if (apiKey !== undefined) check(c, apiKey);
    await next();
  };
}

/**
 * Guards one route with any of several bearer tokens (e.g. the API key or a metrics-only token).
 * No tokens: open.
 *
 * @example
 * app.get('/metrics', requireBearer({ tokens: [apiKey, metricsToken] }), handler);
 */
export function requireBearer(opts: { tokens: string[] }): MiddlewareHandler {
  const { tokens } = opts;
  return async function bearerAuth(c, next) {
    if (tokens.length > 0) {
      const token = bearerToken(requestHeader(c, 'authorization'));
      if (token === undefined) deny(c, 'missing "Authorization: Bearer <token>" header');
      // Every candidate is compared, so the time taken does not say which one was close.
      const matches = tokens.map((t) => keyMatches(token, t));
      if (!matches.includes(true)) deny(c, 'invalid token');
    }
    await next();
  };
}

export type FunctionAuth = 'none' | 'key';

/**
 * Guards the HTTP trigger per function: `lookup(name)` gives the function's `auth` setting
 * (undefined for an unknown function, which the route then answers with 404). A function that
 * asks for a key on a server without one is never reachable: failing closed beats exposing it.
 *
 * @example
 * app.use('/fn/:name/*', requireFunctionKey({ apiKey, lookup: async (n) => (await catalog.get(n))?.config.auth }));
 */
export function requireFunctionKey(opts: {
  apiKey: string | undefined;
  lookup: (name: string) => Promise<FunctionAuth | undefined>;
}): MiddlewareHandler {
  return async function functionKeyAuth(c, next) {
    const name = c.req.param('name');
    const auth = name === undefined ? undefined : await opts.lookup(name).catch(() => undefined);
    if (auth === 'key') {
      if (opts.apiKey === undefined) deny(c, `function ${name} requires an API key, and this server has none configured`);
      check(c, opts.apiKey);
    }
    await next();
  };
}
