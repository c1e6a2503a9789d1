import { Hono } from 'hono';
import { HearthError } from '../../errors/index.ts';
import type { GatewayServices } from '../services.ts';

/** Retry-After (s) when the node list cannot be read. */
const RETRY_AFTER_S = 1;

/**
 * `GET /v1/nodes`: the cluster's live nodes (id, URL, version, containers, memory, last heartbeat).
 * The list lives in Redis only, so a failure to read it is Redis being away (a bounded read that
 * timed out, a dropped connection): 503 `unavailable`, never `internal`.
 */
export function nodeRoutes(services: GatewayServices): Hono {
  return new Hono().get('/', async (c) => {
    const cluster = services.cluster;
    if (!cluster) return c.json({ nodes: [] });
    const nodes = await cluster.nodes().catch((err: Error) => {
      throw new HearthError('unavailable', `the node list cannot be read from Redis: ${err.message}`, { retryAfterSeconds: RETRY_AFTER_S });
    });
    return c.json({ nodes });
  });
}
