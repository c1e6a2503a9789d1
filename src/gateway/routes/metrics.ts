import { Hono } from 'hono';
import { registry } from '../../metrics/index.ts';

/** `GET /metrics`: Prometheus text format. */
export function metricsRoutes(): Hono {
  return new Hono().get('/metrics', async (c) => {
    c.header('content-type', registry.contentType);
    return c.body(await registry.metrics());
  });
}
