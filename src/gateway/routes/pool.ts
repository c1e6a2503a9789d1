import { Hono } from 'hono';
import type { GatewayServices } from '../services.ts';

/** `GET /v1/pool`: every warm container and its state. */
export function poolRoutes(services: GatewayServices): Hono {
  return new Hono().get('/', (c) => c.json({ containers: services.pool.snapshot() }));
}
