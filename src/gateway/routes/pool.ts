import { Hono } from 'hono';
import type { GatewayServices } from '../services.ts';

/**
 * `GET /v1/pool`: every container (function, version, state, age, invocations served, idle since,
 * memory in use from its cgroup), the stem cells, and the global limits with what they hold.
 */
export function poolRoutes(services: GatewayServices): Hono {
  return new Hono().get('/', async (c) => c.json(await services.pool.describe()));
}
