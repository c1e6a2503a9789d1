import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Validator } from '@seriousme/openapi-schema-validator';
import { deployResponseSchema, functionDescriptionSchema, functionListSchema, operations, poolResponseSchema } from '../../src/api/index.ts';
import { createApp, type GatewayServices } from '../../src/gateway/index.ts';
import { startHearth, type TestHearth } from '../helpers/hearth.ts';

let h: TestHearth;

beforeAll(async () => {
  h = await startHearth();
});

afterAll(async () => {
  await h?.close();
});

describe('OpenAPI document', () => {
  it('GET /openapi.json is a valid OpenAPI 3.1 document (checked by an OpenAPI validator)', async () => {
    const res = await h.api('GET', '/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    const validator = new Validator();
    const result = await validator.validate(res.body);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    // The validator is not a rubber stamp: a document with a broken response object fails.
    const broken = structuredClone(res.body);
    broken.paths['/healthz'].get.responses['200'] = { content: {} };
    expect((await new Validator().validate(broken)).valid).toBe(false);
  });

  it('describes every operation, generated from the zod schemas', async () => {
    const doc = (await h.api('GET', '/openapi.json')).body;
    for (const op of operations) expect(doc.paths[op.path]?.[op.method]?.operationId, `${op.method} ${op.path}`).toBe(op.id);
    const deploy = doc.paths['/v1/functions'].post;
    // The function-name regex in the config module reaches the document unchanged.
    expect(deploy.requestBody.content['application/json'].schema.properties.name.pattern).toBe('^[a-z][a-z0-9-]{0,62}$');
    expect(deploy.responses['201'].content['application/json'].schema.properties.config.properties.memoryMb.default).toBe(128);
    expect(doc.paths['/v1/functions/{name}/invoke'].post.parameters).toEqual(expect.arrayContaining([
      expect.objectContaining({ name: 'name', in: 'path', required: true }),
      expect.objectContaining({ name: 'version', in: 'query', required: false }),
    ]));
  });

  it('documents every API route the gateway registers', () => {
    // Registration only: no handler runs, so the services are not needed.
    const app = createApp({} as GatewayServices);
    const documented = new Set(operations.map((op) => `${op.method.toUpperCase()} ${op.path}`));
    const registered = app.routes
      .filter((r) => ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'].includes(r.method) && (r.path.startsWith('/v1/') || r.path === '/healthz'))
      .map((r) => `${r.method} ${r.path.replace(/\/$/, '').replace(/:(\w+)/g, '{$1}')}`);
    expect(registered.length).toBeGreaterThan(5);
    expect(registered.filter((r) => !documented.has(r))).toEqual([]);
  });

  it('matches what the server really answers (responses parse with the same schemas, no unknown fields)', async () => {
    const dep = await h.deploy('oa-echo', 'export default (e) => e');
    expect(deployResponseSchema.strict().safeParse(dep.body).error).toBeUndefined();
    expect((await h.invoke('oa-echo', { x: 1 })).body).toEqual({ x: 1 });
    const one = await h.api('GET', '/v1/functions/oa-echo');
    expect(functionDescriptionSchema.strict().safeParse(one.body).error).toBeUndefined();
    expect(functionListSchema.safeParse((await h.api('GET', '/v1/functions')).body).error).toBeUndefined();
    const pool = (await h.api('GET', '/v1/pool')).body;
    expect(poolResponseSchema.safeParse(pool).error).toBeUndefined();
    expect(pool.containers.length).toBeGreaterThan(0);
  });

  it('serves a human-readable API page listing the operations', async () => {
    const res = await h.api('GET', '/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(res.text).toContain('/v1/functions/{name}/invoke');
    expect(res.text).toContain('href="/openapi.json"');
  });
});
