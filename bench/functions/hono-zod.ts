/**
 * The bench's heavy function: a Hono app with a zod-validated route, built at module load as a
 * real app would be, invoked as a plain handler. Bundled with hono and zod from node_modules.
 */
import { Hono } from 'hono';
import { z } from 'zod';

const greeting = z.object({ name: z.string().min(1).default('bench'), times: z.number().int().min(1).max(10).default(1) });

const app = new Hono().post('/greet', async (c) => {
  const parsed = greeting.safeParse(await c.req.json());
  if (!parsed.success) return c.json({ error: z.prettifyError(parsed.error) }, 400);
  return c.json({ message: `hello ${parsed.data.name}`.repeat(parsed.data.times) });
});

export default async function handler(event: unknown): Promise<unknown> {
  const res = await app.request('/greet', { method: 'POST', body: JSON.stringify(event ?? {}), headers: { 'content-type': 'application/json' } });
  return res.json();
}
