import { Hono } from 'hono';
import type { GatewayServices } from './services.ts';
import { handleError, handleNotFound } from './middleware/error-handler.ts';
import { healthRoutes } from './routes/health.ts';
import { functionRoutes } from './routes/functions.ts';
import { invokeRoutes } from './routes/invoke.ts';
import { poolRoutes } from './routes/pool.ts';
import { versionRoutes } from './routes/versions.ts';
import { gcRoutes } from './routes/gc.ts';
import { invocationRoutes } from './routes/invocations.ts';
import { scheduleRoutes } from './routes/schedules.ts';
import { secretRoutes } from './routes/secrets.ts';
import { triggerRoutes } from './routes/trigger.ts';

/** The HTTP API of DESIGN.md, as a hono app (served by @hono/node-server in `Hearth`). */
export function createApp(services: GatewayServices): Hono {
  const app = new Hono();
  app.onError(handleError);
  app.notFound(handleNotFound);
  app.route('/', healthRoutes());
  app.route('/v1/functions', functionRoutes(services));
  app.route('/v1/functions', invokeRoutes(services));
  app.route('/v1/pool', poolRoutes(services));
  app.route('/v1/functions', versionRoutes(services));
  app.route('/v1/gc', gcRoutes(services));
  app.route('/v1', invocationRoutes(services));
  app.route('/v1/functions', scheduleRoutes(services));
  app.route('/v1/secrets', secretRoutes(services));
  app.route('/fn', triggerRoutes(services));
  return app;
}
