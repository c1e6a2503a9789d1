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
import { logInvocation } from '../../log/index.ts';
import { jsonResponse } from '../json-response.ts';

/** The answer and the invocation's headers (see jsonResponse for why not c.json). */
function invocationResponse(c: Context, status: number, body: unknown, result: Pick<InvocationResult, 'invocationId' | 'coldStart' | 'direct'>): Response {
  logInvocation(c, result.invocationId);
  return jsonResponse(status, body, {
    'x-hearth-invocation-id': result.invocationId,
    'x-hearth-cold-start': String(result.coldStart),
    // Whether the call skipped the queue (a free warm container here): tells a slow call's cause.
    'x-hearth-dispatch': result.direct ? 'direct' : 'queued',
  });
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
    if (result.ok) return invocationResponse(c, 200, result.result ?? null, result);
    const error = result.error ?? { code: 'internal' as const, message: 'invocation failed' };
    const status = new HearthError(error.code, error.message).status;
    return invocationResponse(c, status, errorBody(error.code, error.message), result);
  });

  return app;
}
