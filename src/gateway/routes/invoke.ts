import { Hono, type Context } from 'hono';
import { HearthError } from '../../errors/index.ts';
import { describeZodError } from '../../functions/index.ts';
import type { InvocationResult } from '../../scheduler/index.ts';
import type { GatewayServices } from '../services.ts';
import { limitBody, MB } from '../middleware/body-limit.ts';
import { readJsonBody } from '../middleware/json-body.ts';
import { errorBody } from '../middleware/error-handler.ts';
import { nameParam } from './functions.ts';
import { invokeQuerySchema } from '../../api/index.ts';
import { idempotencyKeyOf } from './invocations.ts';

function invocationHeaders(c: Context, result: Pick<InvocationResult, 'invocationId' | 'coldStart' | 'direct'>): void {
  c.header('x-hearth-invocation-id', result.invocationId);
  c.header('x-hearth-cold-start', String(result.coldStart));
  // Whether the call skipped the queue (a free warm container here): tells a slow call's cause.
  c.header('x-hearth-dispatch', result.direct ? 'direct' : 'queued');
}

/** `POST /v1/functions/:name/invoke`: the body is the event, the answer the function's result. */
export function invokeRoutes(services: GatewayServices): Hono {
  const app = new Hono();

  app.post('/:name/invoke', limitBody(6 * MB), async (c) => {
    const name = nameParam(c.req.param('name'));
    const query = invokeQuerySchema.safeParse(c.req.query());
    if (!query.success) throw new HearthError('invalid_request', describeZodError(query.error, 'query'));
    const event = await readJsonBody(c);
    const key = idempotencyKeyOf(c);
    const result = await services.invoker.invoke(name, event, { ...query.data, ...(key !== undefined ? { idempotencyKey: key } : {}) });
    invocationHeaders(c, result);
    if (result.ok) return c.json(result.result ?? null, 200);
    const error = result.error ?? { code: 'internal' as const, message: 'invocation failed' };
    const status = new HearthError(error.code, error.message).status;
    return c.json(errorBody(error.code, error.message), status);
  });

  return app;
}
