import { Hono } from 'hono';
import { HearthError } from '../../errors/index.ts';
import { functionName } from '../../config/index.ts';
import { describeZodError } from '../../functions/index.ts';
import { DEFAULT_MAX_ASSET_BYTES, type FunctionSource } from '../../image/index.ts';
import type { GatewayServices } from '../services.ts';
import { limitBody, MB } from '../middleware/body-limit.ts';
import { readJsonBody } from '../middleware/json-body.ts';
import { deployBodySchema } from '../../api/index.ts';

/** Validates a `:name` path parameter before it reaches Redis keys or the file system. */
export function nameParam(raw: string): string {
  const parsed = functionName.safeParse(raw);
  if (!parsed.success) throw new HearthError('not_found', `function ${JSON.stringify(raw)} does not exist (invalid name)`);
  return parsed.data;
}

/** Deploy, list, describe and remove: `/v1/functions`. */
export function functionRoutes(services: GatewayServices): Hono {
  const app = new Hono();

  // Room for the asset cap in base64 (4/3) plus the code: past it, the build's own 413 says more.
  const assetCap = services.maxAssetBytes ?? DEFAULT_MAX_ASSET_BYTES;
  app.post('/', limitBody(Math.ceil((assetCap * 4) / 3) + 16 * MB), async (c) => {
    const parsed = deployBodySchema.safeParse(await readJsonBody(c));
    if (!parsed.success) throw new HearthError('invalid_request', describeZodError(parsed.error));
    const body = parsed.data;
    const source: FunctionSource = body.source !== undefined
      ? { kind: 'files', files: { 'index.ts': body.source } }
      : { kind: 'files', files: body.files!, ...(body.entry ? { entry: body.entry } : {}) };
    const result = await services.functions.deploy({ name: body.name, source, config: body.config });
    return c.json(result, 201);
  });

  app.get('/', async (c) => c.json({ functions: await services.functions.list() }));

  app.get('/:name', async (c) => c.json(await services.functions.describe(nameParam(c.req.param('name')))));

  app.delete('/:name', async (c) => {
    await services.functions.remove(nameParam(c.req.param('name')));
    return c.body(null, 204);
  });

  return app;
}
