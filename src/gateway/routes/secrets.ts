import { Hono } from 'hono';
import { HearthError } from '../../errors/index.ts';
import { describeZodError } from '../../functions/index.ts';
import type { GatewayServices } from '../services.ts';
import { limitBody } from '../middleware/body-limit.ts';
import { readJsonBody } from '../middleware/json-body.ts';
import { secretBodySchema } from '../../api/index.ts';


/** `PUT /v1/secrets/:name {value}`, list, describe, delete. No response ever carries a value. */
export function secretRoutes(services: GatewayServices): Hono {
  const app = new Hono();

  app.put('/:name', limitBody(128 * 1024), async (c) => {
    const parsed = secretBodySchema.safeParse(await readJsonBody(c));
    if (!parsed.success) throw new HearthError('invalid_request', describeZodError(parsed.error));
    return c.json(await services.secrets.put(c.req.param('name'), parsed.data.value), 200);
  });

  app.get('/', async (c) => c.json({ secrets: await services.secrets.list() }));

  app.get('/:name', async (c) => {
    const name = c.req.param('name');
    const info = await services.secrets.describe(name);
    if (!info) throw new HearthError('not_found', `secret ${name} does not exist`);
    return c.json(info);
  });

  app.delete('/:name', async (c) => {
    const name = c.req.param('name');
    if (!(await services.secrets.remove(name))) throw new HearthError('not_found', `secret ${name} does not exist`);
    return c.body(null, 204);
  });

  return app;
}
