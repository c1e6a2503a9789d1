import { z } from 'zod';
import * as s from './schemas.ts';

/** One HTTP operation of the API, described by the same zod schemas the gateway validates with. */
export interface Operation {
  id: string;
  method: 'get' | 'post' | 'put' | 'delete';
  /** OpenAPI-style path: `/v1/functions/{name}`. */
  path: string;
  summary: string;
  tag: string;
  /** JSON request body; `event` means any JSON (the function's event). */
  body?: z.ZodType;
  query?: z.ZodObject;
  /** Success status and its JSON body (undefined: no body). */
  status: number;
  response?: z.ZodType;
  /** Error statuses this operation can answer besides 400/401/500. */
  errors?: number[];
}

const event = z.unknown().describe('The event passed to the function: any JSON value.');
const anyJson = z.unknown().describe("The function's JSON result.");

/** Every operation the SDK and the OpenAPI document know: the SDK is tested to cover all of them, so neither can drift. */
export const operations: Operation[] = [
  { id: 'health', method: 'get', path: '/healthz', summary: 'Liveness', tag: 'server', status: 200, response: s.healthResponseSchema },
  { id: 'ready', method: 'get', path: '/readyz', summary: 'Readiness: 503 unavailable while starting, stopping or Redis is unreachable', tag: 'server', status: 200, response: s.readyResponseSchema, errors: [503] },
  { id: 'deployFunction', method: 'post', path: '/v1/functions', summary: 'Deploy a function (builds an OCI image, records a new version)', tag: 'functions', body: s.deployBodySchema, status: 201, response: s.deployResponseSchema, errors: [413] },
  { id: 'listFunctions', method: 'get', path: '/v1/functions', summary: 'List deployed functions', tag: 'functions', status: 200, response: s.functionListSchema },
  { id: 'getFunction', method: 'get', path: '/v1/functions/{name}', summary: 'Describe a function (current version and storage)', tag: 'functions', status: 200, response: s.functionDescriptionSchema, errors: [404] },
  { id: 'removeFunction', method: 'delete', path: '/v1/functions/{name}', summary: 'Remove a function, its versions, queue and containers', tag: 'functions', status: 204, errors: [404] },
  { id: 'listVersions', method: 'get', path: '/v1/functions/{name}/versions', summary: 'List the immutable versions of a function', tag: 'functions', status: 200, response: s.versionListSchema, errors: [404] },
  { id: 'rollback', method: 'post', path: '/v1/functions/{name}/rollback', summary: 'Make an earlier version current', tag: 'functions', body: s.rollbackBodySchema, status: 200, response: s.functionRecordSchema, errors: [404] },
  { id: 'invoke', method: 'post', path: '/v1/functions/{name}/invoke', summary: "Invoke synchronously: the body is the event, the answer the function's result", tag: 'invocations', body: event, query: s.invokeQuerySchema, status: 200, response: anyJson, errors: [404, 413, 429, 503, 504] },
  { id: 'invokeAsync', method: 'post', path: '/v1/functions/{name}/invocations', summary: 'Invoke asynchronously: 202 with the invocation id', tag: 'invocations', body: event, query: s.asyncInvokeQuerySchema, status: 202, response: s.asyncAcceptedSchema, errors: [404, 413, 429, 503] },
  { id: 'getInvocation', method: 'get', path: '/v1/invocations/{id}', summary: 'Status, result or error, and timings of an invocation', tag: 'invocations', status: 200, response: s.invocationRecordSchema, errors: [404] },
  { id: 'getInvocationLogs', method: 'get', path: '/v1/invocations/{id}/logs', summary: 'Console output captured during an invocation', tag: 'logs', status: 200, response: s.logsResponseSchema, errors: [404] },
  { id: 'getFunctionLogs', method: 'get', path: '/v1/functions/{name}/logs', summary: "Recent console output of a function's invocations", tag: 'logs', query: s.logsQuerySchema, status: 200, response: s.logsResponseSchema, errors: [404] },
  { id: 'listSchedules', method: 'get', path: '/v1/functions/{name}/schedules', summary: "List a function's cron schedules", tag: 'schedules', status: 200, response: s.scheduleListSchema, errors: [404] },
  { id: 'getSchedule', method: 'get', path: '/v1/functions/{name}/schedules/{id}', summary: 'Describe a schedule', tag: 'schedules', status: 200, response: s.scheduleSchema, errors: [404] },
  { id: 'putSchedule', method: 'put', path: '/v1/functions/{name}/schedules/{id}', summary: 'Create or replace a cron schedule', tag: 'schedules', body: s.scheduleBodySchema, status: 200, response: s.scheduleSchema, errors: [404] },
  { id: 'removeSchedule', method: 'delete', path: '/v1/functions/{name}/schedules/{id}', summary: 'Remove a schedule', tag: 'schedules', status: 204, errors: [404] },
  { id: 'listSecrets', method: 'get', path: '/v1/secrets', summary: 'List secret names (values are never returned)', tag: 'secrets', status: 200, response: s.secretListSchema },
  { id: 'putSecret', method: 'put', path: '/v1/secrets/{name}', summary: 'Create or replace a secret', tag: 'secrets', body: s.secretBodySchema, status: 200, response: s.secretInfoSchema },
  { id: 'getSecret', method: 'get', path: '/v1/secrets/{name}', summary: 'Describe a secret (never its value)', tag: 'secrets', status: 200, response: s.secretInfoSchema, errors: [404] },
  { id: 'removeSecret', method: 'delete', path: '/v1/secrets/{name}', summary: 'Remove a secret', tag: 'secrets', status: 204, errors: [404] },
  { id: 'listDeadLetters', method: 'get', path: '/v1/functions/{name}/dead-letters', summary: 'Invocations that failed their last attempt', tag: 'invocations', status: 200, response: s.deadLetterListSchema, errors: [404] },
  { id: 'retryInvocation', method: 'post', path: '/v1/invocations/{id}/retry', summary: 'Run a dead-lettered invocation again', tag: 'invocations', status: 202, response: s.asyncAcceptedSchema, errors: [404] },
  { id: 'gc', method: 'post', path: '/v1/gc', summary: 'Remove image blobs and layers no version references', tag: 'server', status: 200, response: s.gcResponseSchema },
  { id: 'getPool', method: 'get', path: '/v1/pool', summary: 'Warm containers of every node, per function, and their state', tag: 'pool', status: 200, response: s.poolResponseSchema },
  { id: 'listNodes', method: 'get', path: '/v1/nodes', summary: "The cluster's live nodes (heartbeat within ~15 s)", tag: 'server', status: 200, response: s.nodeListSchema },
];
