import type { Context } from 'hono';
import { HearthError } from '../../errors/index.ts';

/**
 * Reads the body as JSON whatever the Content-Type says: `curl -d '{…}'` sends
 * application/x-www-form-urlencoded, and users should not have to add a header to invoke.
 * An empty body is `null`.
 */
export async function readJsonBody(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new HearthError('invalid_request', `request body is not valid JSON: ${(err as Error).message}`);
  }
}
