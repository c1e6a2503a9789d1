import { Hono } from 'hono';
import type { GatewayServices } from '../services.ts';

/**
 * `GET /v1/pool`: every container of every live node (function, version, state, age, invocations
 * served, idle since, memory in use from its cgroup, and its node), the stem cells, this node's
 * limits with what they hold, and every node's.
 */
export function poolRoutes(services: GatewayServices): Hono {
  return new Hono().get('/', async (c) => {
    if (services.cluster) return c.json(await services.cluster.pool());
    return c.json(await services.pool.describe());
  });
}
