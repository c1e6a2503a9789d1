import { Hono } from 'hono';
import type { GatewayServices } from '../services.ts';

/** `POST /v1/gc`: collect unreferenced image blobs and layers now; answers what went and what is left. */
export function gcRoutes(services: GatewayServices): Hono {
  return new Hono().post('/', async (c) => c.json(await services.functions.collectGarbage()));
}
