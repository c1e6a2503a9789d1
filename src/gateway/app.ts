import { Hono } from 'hono';
import type { GatewayServices } from './services.ts';
import { handleError, handleNotFound } from './middleware/error-handler.ts';
import { healthRoutes } from './routes/health.ts';
import { functionRoutes } from './routes/functions.ts';
import { invokeRoutes } from './routes/invoke.ts';
import { poolRoutes } from './routes/pool.ts';
import { versionRoutes } from './routes/versions.ts';
import { gcRoutes } from './routes/gc.ts';
import { requireApiKey, requireFunctionKey } from './middleware/auth.ts';
import { functionName } from '../config/index.ts';

export interface AppOptions {
  /** HEARTH_API_KEY: when set, /v1 needs it, and so do /fn/ routes of functions with `"auth": "key"`. */
  apiKey?: string;
}

/** The HTTP API of DESIGN.md, as a hono app (served by @hono/node-server in `Hearth`). */
export function createApp(services: GatewayServices, options: AppOptions = {}): Hono {
  const app = new Hono();
  app.onError(handleError);
  app.notFound(handleNotFound);
  // Before every route: auth runs first, whatever is registered below.
  app.use('/v1/*', requireApiKey({ apiKey: options.apiKey }));
  app.use(
    '/fn/:name/*',
    requireFunctionKey({
      apiKey: options.apiKey,
      lookup: async (name) => (functionName.safeParse(name).success ? (await services.functions.get(name)).config.auth : undefined),
    }),
  );
  app.route('/', healthRoutes());
  app.route('/v1/functions', functionRoutes(services));
  app.route('/v1/functions', invokeRoutes(services));
  app.route('/v1/pool', poolRoutes(services));
  app.route('/v1/functions', versionRoutes(services));
  app.route('/v1/gc', gcRoutes(services));
  return app;
}
