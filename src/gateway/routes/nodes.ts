import { Hono } from 'hono';
import type { GatewayServices } from '../services.ts';

/** `GET /v1/nodes`: the cluster's live nodes (id, URL, version, containers, memory, last heartbeat). */
export function nodeRoutes(services: GatewayServices): Hono {
  return new Hono().get('/', async (c) => c.json({ nodes: services.cluster ? await services.cluster.nodes() : [] }));
}
