import { Hono } from 'hono';
import { requestLog, rootLogger } from '../log/index.ts';
import type { GatewayServices } from './services.ts';
import { handleError, handleNotFound } from './middleware/error-handler.ts';
import { requestId } from './middleware/request-id.ts';
import { healthRoutes } from './routes/health.ts';
import { functionRoutes } from './routes/functions.ts';
import { invokeRoutes } from './routes/invoke.ts';
import { poolRoutes } from './routes/pool.ts';
import { nodeRoutes } from './routes/nodes.ts';
import { versionRoutes } from './routes/versions.ts';
import { gcRoutes } from './routes/gc.ts';
import { openApiRoutes } from './routes/openapi.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { uiRoutes } from './ui/index.ts';
import { requireApiKey, requireFunctionKey } from './middleware/auth.ts';
import { failFastWithoutRedis } from './middleware/redis-guard.ts';
import { requireRunnableSomewhere } from './middleware/runnable-somewhere.ts';
import { functionName } from '../config/index.ts';
import { invocationRoutes } from './routes/invocations.ts';
import { scheduleRoutes } from './routes/schedules.ts';
import { secretRoutes } from './routes/secrets.ts';
import { triggerRoutes } from './routes/trigger.ts';

/** Hearth's HTTP API (the contract the README documents and src/api describes), as a hono app served by @hono/node-server in `Hearth`. */
export function createApp(services: GatewayServices): Hono {
  const app = new Hono();
  app.onError(handleError);
  app.notFound(handleNotFound);
  app.use(requestId(), requestLog(services.logger ?? rootLogger()));
  // Before every route: auth runs first, whatever is registered below. With HEARTH_API_KEY set,
  // /v1 needs it, and so do /fn/ routes of functions whose config says "auth": "key". Without a
  // key the guard would pass everything: it is left out (each layer costs every request ~1 KB of
  // garbage and a few µs on these machines).
  if (services.apiKey !== undefined) app.use('/v1/*', requireApiKey({ apiKey: services.apiKey }));
  // Before anything that needs Redis (the trigger's per-function auth looks the function up in it).
  const redisGuard = failFastWithoutRedis({ redis: services.redis });
  for (const pattern of ['/v1/*', '/fn/*', '/ui/api/*']) app.use(pattern, redisGuard);
  app.use(
    '/fn/:name/*',
    requireFunctionKey({
      apiKey: services.apiKey,
      lookup: async (name) => (functionName.safeParse(name).success ? (await services.functions.get(name)).config.auth : undefined),
    }),
  );
  // After auth: an unauthenticated caller learns nothing about images.
  const cluster = services.cluster;
  if (cluster) {
    const runnable = requireRunnableSomewhere({ canRunAnywhere: (name) => cluster.canRunAnywhere(name) });
    app.on('POST', ['/v1/functions/:name/invoke', '/v1/functions/:name/invocations'], runnable);
    app.use('/fn/:name/*', runnable);
  }
  app.route('/', healthRoutes(services.readiness));
  app.route('/v1/functions', functionRoutes(services));
  app.route('/v1/functions', invokeRoutes(services));
  app.route('/v1/pool', poolRoutes(services));
  app.route('/v1/nodes', nodeRoutes(services));
  app.route('/v1/functions', versionRoutes(services));
  app.route('/v1/gc', gcRoutes(services));
  app.route('/', openApiRoutes());
  app.route('/', metricsRoutes({ tokens: [services.apiKey, services.metricsToken] }));
  app.route('/', uiRoutes(services));
  app.route('/v1', invocationRoutes(services));
  app.route('/v1/functions', scheduleRoutes(services));
  app.route('/v1/secrets', secretRoutes(services));
  app.route('/fn', triggerRoutes(services));
  return app;
}
