import type { MiddlewareHandler } from 'hono';
import { HearthError } from '../../errors/index.ts';

/** How soon a refused caller may try again: a node that can get the image may join or catch up. */
const RETRY_AFTER_S = 10;

/**
 * Refuses an invocation of a function that no live node can get the image of (503
 * image_unavailable), instead of queueing work no node will take. Cheap when this node can run
 * the function: no Redis read then.
 *
 * @example
 * app.use('/v1/functions/:name/invoke', requireRunnableSomewhere({ canRunAnywhere }));
 */
export function requireRunnableSomewhere(opts: { canRunAnywhere?: (name: string) => Promise<boolean> }): MiddlewareHandler {
  return async function runnableSomewhere(c, next) {
    const name = c.req.param('name');
    if (opts.canRunAnywhere && name && !(await opts.canRunAnywhere(name))) {
      throw new HearthError('image_unavailable', `no node can get the image of function ${name}: it is not in any node's store nor in the registry`, { retryAfterSeconds: RETRY_AFTER_S });
    }
    await next();
  };
}
