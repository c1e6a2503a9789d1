import { Hono } from 'hono';
import { HearthError } from '../../errors/index.ts';
import { describeZodError } from '../../functions/index.ts';
import type { GatewayServices } from '../services.ts';
import { limitBody } from '../middleware/body-limit.ts';
import { readJsonBody } from '../middleware/json-body.ts';
import { nameParam } from './functions.ts';
import { rollbackBodySchema } from '../../api/index.ts';

/** `GET /v1/functions/:name/versions` and `POST /v1/functions/:name/rollback {"version": n}`. */
export function versionRoutes(services: GatewayServices): Hono {
  const app = new Hono();

  app.get('/:name/versions', async (c) => {
    const name = nameParam(c.req.param('name'));
    return c.json({ name, versions: await services.functions.versions(name) });
  });

  app.post('/:name/rollback', limitBody(64 * 1024), async (c) => {
    const name = nameParam(c.req.param('name'));
    const parsed = rollbackBodySchema.safeParse(await readJsonBody(c));
    if (!parsed.success) throw new HearthError('invalid_request', describeZodError(parsed.error));
    return c.json(await services.functions.rollback(name, parsed.data.version));
  });

  return app;
}
