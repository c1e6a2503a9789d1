import { Hono } from 'hono';
import type { ReadinessReport } from '../../health/index.ts';
import { errorBody } from '../middleware/error-handler.ts';

/**
 * `GET /healthz`: liveness, 200 whenever the process answers. `GET /readyz`: readiness, 503
 * `unavailable` (with Retry-After) while starting, stopping, or Redis is unreachable.
 */
export function healthRoutes(readiness?: { check(): ReadinessReport }): Hono {
  return new Hono()
    .get('/healthz', (c) => c.json({ status: 'ok' }))
    .get('/readyz', (c) => {
      const report = readiness?.check() ?? { ready: true };
      if (report.ready) return c.json({ status: 'ready' });
      c.header('Retry-After', '1');
      return c.json(errorBody('unavailable', `not ready: ${report.reason ?? 'unknown'}`), 503);
    });
}
