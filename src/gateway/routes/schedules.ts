import { Hono } from 'hono';
import { HearthError } from '../../errors/index.ts';
import { describeZodError } from '../../functions/index.ts';
import { SCHEDULE_ID } from '../../config/index.ts';
import type { GatewayServices } from '../services.ts';
import { limitBody, MB } from '../middleware/body-limit.ts';
import { readJsonBody } from '../middleware/json-body.ts';
import { nameParam } from './functions.ts';
import { scheduleBodySchema } from '../../api/index.ts';

function scheduleParam(raw: string): string {
  if (!SCHEDULE_ID.test(raw)) throw new HearthError('invalid_request', `schedule id ${JSON.stringify(raw)} must be 1-64 chars of a-z, A-Z, 0-9, "_" and "-"`);
  return raw;
}

/** `PUT / GET / DELETE /v1/functions/:name/schedules/:id` and the list. */
export function scheduleRoutes(services: GatewayServices): Hono {
  const app = new Hono();

  app.get('/:name/schedules', async (c) => {
    const name = nameParam(c.req.param('name'));
    await services.functions.get(name);
    return c.json({ schedules: await services.schedules.list(name) });
  });

  app.put('/:name/schedules/:id', limitBody(1 * MB), async (c) => {
    const name = nameParam(c.req.param('name'));
    const id = scheduleParam(c.req.param('id'));
    const parsed = scheduleBodySchema.safeParse(await readJsonBody(c));
    if (!parsed.success) throw new HearthError('invalid_request', describeZodError(parsed.error));
    const fn = await services.functions.get(name);
    const info = await services.schedules.put(name, { id, ...parsed.data }, 'api', fn.config.retries);
    return c.json(info, 200);
  });

  app.get('/:name/schedules/:id', async (c) => {
    const name = nameParam(c.req.param('name'));
    const id = scheduleParam(c.req.param('id'));
    const info = await services.schedules.get(name, id);
    if (!info) throw new HearthError('not_found', `function ${name} has no schedule ${id}`);
    return c.json(info);
  });

  app.delete('/:name/schedules/:id', async (c) => {
    const name = nameParam(c.req.param('name'));
    const id = scheduleParam(c.req.param('id'));
    if (!(await services.schedules.remove(name, id))) throw new HearthError('not_found', `function ${name} has no schedule ${id}`);
    return c.body(null, 204);
  });

  return app;
}
