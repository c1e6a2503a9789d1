import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { HearthError } from '../../errors/index.ts';
import { describeZodError } from '../../functions/index.ts';
import type { GatewayServices } from '../services.ts';
import { logInvocation } from '../../log/index.ts';
import { jsonResponse } from '../json-response.ts';
import { limitBody, MB } from '../middleware/body-limit.ts';
import { readJsonBody } from '../middleware/json-body.ts';
import { nameParam } from './functions.ts';
import { requestHeader } from '../request-header.ts';
import { asyncInvokeQuerySchema, logsQuerySchema } from '../../api/index.ts';

const idempotencyKey = z.string().min(1).max(255);
const invocationId = z.string().regex(/^[A-Za-z0-9._:-]{1,200}$/);

function idParam(raw: string): string {
  const parsed = invocationId.safeParse(raw);
  if (!parsed.success) throw new HearthError('not_found', `invocation ${JSON.stringify(raw)} does not exist`);
  return parsed.data;
}

/** The Idempotency-Key header, validated; undefined when absent. */
export function idempotencyKeyOf(c: Context): string | undefined {
  const raw = requestHeader(c, 'idempotency-key');
  if (raw === undefined) return undefined;
  const parsed = idempotencyKey.safeParse(raw);
  if (!parsed.success) throw new HearthError('invalid_request', 'Idempotency-Key must be 1-255 characters');
  return parsed.data;
}

function parseSince(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 0;
  const n = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(n)) throw new HearthError('invalid_request', `query.since: expected epoch ms or an ISO date, got ${JSON.stringify(raw)}`);
  return n;
}

/**
 * Asynchronous invocations and what is kept about every invocation: records, logs, dead letters.
 * Mounted at `/v1`.
 */
export function invocationRoutes(services: GatewayServices): Hono {
  const app = new Hono();

  app.post('/functions/:name/invocations', limitBody(6 * MB), async (c) => {
    const name = nameParam(c.req.param('name'));
    const query = asyncInvokeQuerySchema.safeParse({ ...c.req.query(), ...(requestHeader(c, 'x-hearth-callback-url') ? { callbackUrl: requestHeader(c, 'x-hearth-callback-url') } : {}) });
    if (!query.success) throw new HearthError('invalid_request', describeZodError(query.error, 'query'));
    const event = await readJsonBody(c);
    const key = idempotencyKeyOf(c);
    const accepted = await services.invocations.submit(name, event, {
      ...query.data,
      ...(key !== undefined ? { idempotencyKey: key } : {}),
    });
    logInvocation(c, accepted.id);
    return jsonResponse(202, { id: accepted.id }, { 'x-hearth-invocation-id': accepted.id });
  });

  app.get('/invocations/:id', async (c) => {
    const id = idParam(c.req.param('id'));
    const record = await services.store.get(id);
    if (!record) throw new HearthError('not_found', `invocation ${id} does not exist (or its record expired)`);
    return c.json(record);
  });

  app.get('/invocations/:id/logs', async (c) => {
    const id = idParam(c.req.param('id'));
    const record = await services.store.get(id);
    if (!record) throw new HearthError('not_found', `invocation ${id} does not exist (or its record expired)`);
    return c.json({ id, function: record.function, status: record.status, logs: await services.store.getLogs(id) });
  });

  app.post('/invocations/:id/retry', async (c) => {
    const id = idParam(c.req.param('id'));
    const accepted = await services.invocations.retry(id);
    logInvocation(c, accepted.id);
    return jsonResponse(202, { id: accepted.id, retryOf: id }, { 'x-hearth-invocation-id': accepted.id });
  });

  app.get('/functions/:name/dead-letters', async (c) => {
    const name = nameParam(c.req.param('name'));
    await services.functions.get(name);
    return c.json({ deadLetters: await services.store.deadLetters(name) });
  });

  app.get('/functions/:name/logs', async (c) => {
    const name = nameParam(c.req.param('name'));
    const query = logsQuerySchema.safeParse(c.req.query());
    if (!query.success) throw new HearthError('invalid_request', describeZodError(query.error, 'query'));
    await services.functions.get(name);
    const logs = await services.store.functionLogs(name, parseSince(query.data.since), query.data.limit);
    return c.json({ function: name, logs });
  });

  return app;
}
