import { createHmac } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { errorBody } from '../middleware/error-handler.ts';
import { keyMatches } from '../middleware/auth.ts';

export const UI_COOKIE = 'hearth_ui';

/** The cookie holds a MAC of the key, never the key itself. */
export function uiToken(apiKey: string): string {
  return createHmac('sha256', apiKey).update('hearth-ui-session').digest('hex');
}

/** Constant-time comparison, shared with the API-key middleware. */
export const sameSecret = keyMatches;

function authorized(c: Context, apiKey: string): boolean {
  const header = c.req.header('authorization');
  if (header?.startsWith('Bearer ') && sameSecret(header.slice(7), apiKey)) return true;
  const cookie = getCookie(c, UI_COOKIE);
  return cookie !== undefined && sameSecret(cookie, uiToken(apiKey));
}

/**
 * With an API key set, the dashboard needs it too: a browser cannot send a Bearer header on
 * navigation, so /ui/login trades the key for an HttpOnly cookie; scripts may send the header.
 * Pages redirect to the login form, data calls answer 401.
 */
export function uiAuth(apiKey: string | undefined): MiddlewareHandler {
  return async function requireUiKey(c, next) {
    if (!apiKey || c.req.path === '/ui/login' || authorized(c, apiKey)) return next();
    if (c.req.path.startsWith('/ui/api/')) return c.json(errorBody('unauthorized', 'log in at /ui/login or send Authorization: Bearer <key>'), 401);
    return c.redirect('/ui/login', 302);
  };
}
