import type { MiddlewareHandler } from 'hono';
import { HearthError } from '../../errors/index.ts';

/** How soon a refused caller may try again: a node that can get the image may join or catch up. */
const RETRY_AFTER_S = 10;

/**
 * Refuses an invocation of a function that no live node can get the image of (503
 * image_unavailable), instead of queueing work no node will take. Cheap when this node can run
 * the function: no Redis read, and no async step of its own either (a plain `true` passes the
 * request straight on; this runs on every invocation).
 *
 * @example
 * app.use('/v1/functions/:name/invoke', requireRunnableSomewhere({ canRunAnywhere }));
 */
export function requireRunnableSomewhere(opts: { canRunAnywhere: (name: string) => boolean | Promise<boolean> }): MiddlewareHandler {
  return function runnableSomewhere(c, next) {
    const name = c.req.param('name');
    const runnable = name ? opts.canRunAnywhere(name) : true;
    if (runnable === true) return next();
    return Promise.resolve(runnable).then((yes) => {
      if (!yes) throw new HearthError('image_unavailable', `no node can get the image of function ${name}: it is not in any node's store nor in the registry`, { retryAfterSeconds: RETRY_AFTER_S });
      return next();
    });
  };
}
