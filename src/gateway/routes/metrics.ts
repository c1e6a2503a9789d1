import { Hono } from 'hono';
import { registry } from '../../metrics/index.ts';
import { requireBearer } from '../middleware/auth.ts';

/**
 * `GET /metrics`: Prometheus text format. It names every function and its traffic, so with an
 * API key (or a separate metrics token) configured, a scrape must send one of them as a Bearer
 * token (Prometheus' `authorization` / `bearer_token` setting).
 */
export function metricsRoutes(opts: { tokens?: (string | undefined)[] } = {}): Hono {
  const tokens = (opts.tokens ?? []).filter((t): t is string => t !== undefined && t !== '');
  return new Hono().get('/metrics', requireBearer({ tokens }), async (c) => {
    c.header('content-type', registry.contentType);
    return c.body(await registry.metrics());
  });
}
