import { z } from 'zod';
import { errorResponseSchema } from './schemas.ts';
import { operations, type Operation } from './operations.ts';

type JsonObject = Record<string, unknown>;

const statusText: Record<number, string> = {
  200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No content', 400: 'Invalid request', 401: 'Unauthorized',
  404: 'Not found', 413: 'Payload too large', 429: 'Overloaded', 500: 'Function error or internal error', 503: 'Unavailable: Redis unreachable or full, the server starting or stopping, or no node can get the function\'s image (see Retry-After)', 504: 'Timeout',
};

/**
 * zod 4 → JSON Schema 2020-12, the dialect OpenAPI 3.1 uses. Requests are described as the
 * client sends them (`input`: defaults optional), responses as the server answers (`output`).
 */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonObject {
  const out = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonObject;
  delete out.$schema;
  return out;
}

function pathParams(path: string): JsonObject[] {
  return [...path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
}

function queryParams(query: z.ZodObject | undefined): JsonObject[] {
  if (!query) return [];
  const schema = jsonSchema(query, 'input') as { properties?: Record<string, JsonObject>; required?: string[] };
  return Object.entries(schema.properties ?? {}).map(([name, prop]) => ({
    name, in: 'query', required: schema.required?.includes(name) ?? false, schema: prop,
  }));
}

function operationObject(op: Operation): JsonObject {
  const errorContent = { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } };
  const responses: JsonObject = {
    [op.status]: op.response
      ? { description: statusText[op.status] ?? 'OK', content: { 'application/json': { schema: jsonSchema(op.response, 'output') } } }
      : { description: statusText[op.status] ?? 'OK' },
  };
  // Every /v1 call needs Redis, so every one can be told to come back later.
  const unavailable = op.path.startsWith('/v1/') ? [503] : [];
  for (const status of [400, 401, ...(op.errors ?? []), 500, ...unavailable]) responses[status] = { description: statusText[status] ?? 'Error', content: errorContent };
  const parameters = [...pathParams(op.path), ...queryParams(op.query)];
  return {
    operationId: op.id,
    summary: op.summary,
    tags: [op.tag],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(op.body, 'input') } } } } : {}),
    responses,
    ...(op.path.startsWith('/v1/') ? {} : { security: [] }),
  };
}

/**
 * The OpenAPI 3.1 document of the whole HTTP API, generated from the zod schemas in this folder.
 *
 * Why zod 4's own `z.toJSONSchema` plus the small operation table in operations.ts, rather than
 * @hono/zod-openapi: OpenAPI 3.1 *is* JSON Schema 2020-12, which zod 4 emits natively, so no
 * second schema dialect or extra dependency is needed; and the route files keep plain hono
 * handlers, so engineers adding routes in parallel are not forced onto `OpenAPIHono` /
 * `createRoute`. The cost is that a new route must also be listed in operations.ts; the SDK
 * request test (test/sdk/requests.test.ts) and the OpenAPI test check the table against the SDK
 * and the live server.
 */
export function openApiDocument(opts: { version?: string; serverUrl?: string } = {}): JsonObject {
  const paths: Record<string, JsonObject> = {};
  for (const op of operations) (paths[op.path] ??= {})[op.method] = operationObject(op);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Hearth API',
      version: opts.version ?? '0.1.0',
      description: 'Deploy functions as OCI images and invoke them in runc containers. With HEARTH_API_KEY set, /v1 calls need `Authorization: Bearer <key>`.',
    },
    ...(opts.serverUrl ? { servers: [{ url: opts.serverUrl }] } : {}),
    paths,
    components: {
      schemas: { Error: jsonSchema(errorResponseSchema, 'output') },
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    },
    security: [{ bearer: [] }],
  };
}
