import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
// Through the package's own name: what a user of the SDK writes.
import { HearthApiError, HearthClient, type Context, type DeployResponse, type FetchHandler, type FunctionInfo, type Handler } from 'hearth';
import type { FunctionRecord } from '../../src/catalog/index.ts';
import type { DeployResult } from '../../src/functions/index.ts';
import type { PoolDescription } from '../../src/pool/index.ts';
type PoolEntry = PoolDescription['containers'][number];
import type { PoolEntryInfo } from '../../src/api/index.ts';
import { startHearth, type TestHearth } from '../helpers/hearth.ts';

let h: TestHearth;
let client: HearthClient;

beforeAll(async () => {
  h = await startHearth();
  client = new HearthClient({ url: h.url });
});

afterAll(async () => {
  await h?.close();
});

describe('HearthClient against a real server', () => {
  it('deploys, describes, lists, invokes and removes a function', async () => {
    expect(await client.health()).toEqual({ status: 'ok' });
    const dep = await client.deploy({ name: 'sdk-add', source: 'export default (e) => ({ sum: e.a + e.b })', config: { memoryMb: 128 } });
    expect(dep).toMatchObject({ name: 'sdk-add', version: 1, digest: expect.stringMatching(/^sha256:/) });

    const first = await client.invoke<{ sum: number }>('sdk-add', { a: 2, b: 40 });
    expect(first.result).toEqual({ sum: 42 });
    expect(first.invocationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.coldStart).toBe(true);
    expect((await client.invoke('sdk-add', { a: 1, b: 1 })).coldStart).toBe(false);

    expect((await client.get('sdk-add')).config.memoryMb).toBe(128);
    expect((await client.list()).map((f) => f.name)).toContain('sdk-add');
    expect((await client.pool()).filter((c) => c.function === 'sdk-add')).toHaveLength(1);

    await client.remove('sdk-add');
    await expect(client.get('sdk-add')).rejects.toMatchObject({ code: 'not_found', status: 404 });
  });

  it('throws the server error code and message, with the invocation id of a failed invocation', async () => {
    await client.deploy({ name: 'sdk-boom', source: 'export default () => { throw new Error("kaput"); }' });
    const err = await client.invoke('sdk-boom', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HearthApiError);
    expect(err).toMatchObject({ code: 'function_error', status: 500, message: expect.stringContaining('kaput'), invocationId: expect.stringMatching(/^[0-9a-f-]{36}$/) });

    const bad = await client.deploy({ name: 'sdk-bad', source: 'export default (', config: {} }).catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: 'invalid_request', status: 400 });
  });

  it('reports an unreachable server as such, not as a stack trace', async () => {
    const offline = new HearthClient({ url: 'http://127.0.0.1:9' });
    await expect(offline.list()).rejects.toMatchObject({ code: 'unreachable', status: 0, message: expect.stringContaining('127.0.0.1:9') });
  });

  it('sends the API key as a Bearer token', async () => {
    const seen: string[] = [];
    const spy = new HearthClient({
      url: h.url,
      apiKey: 's3cret',
      fetch: (input, init) => {
        seen.push(new Headers(init?.headers).get('authorization') ?? '');
        return fetch(input, init);
      },
    });
    await spy.health();
    expect(seen).toEqual(['Bearer s3cret']);
  });
});

describe('types', () => {
  it('infers request and response types from the gateway schemas, matching what the server returns', () => {
    // The shared zod schemas and the server's own types must agree in both directions.
    expectTypeOf<FunctionRecord>().toExtend<FunctionInfo>();
    expectTypeOf<FunctionInfo>().toExtend<FunctionRecord>();
    expectTypeOf<DeployResult>().toExtend<DeployResponse>();
    expectTypeOf<PoolEntry>().toExtend<PoolEntryInfo>();
    expectTypeOf<PoolEntryInfo>().toExtend<PoolEntry>();
    expectTypeOf<HearthClient['deploy']>().returns.resolves.toEqualTypeOf<DeployResponse>();
  });

  it('types function code with Handler, FetchHandler and Context', () => {
    const handler: Handler<{ a: number }, number> = (e, ctx) => e.a + ctx.version;
    const app: FetchHandler = { fetch: (_req, env, ctx: Context) => new Response(`${env.X ?? ''}${ctx.functionName}`) };
    expectTypeOf(handler).parameter(1).toEqualTypeOf<Context>();
    expectTypeOf<Context['deadline']>().toBeNumber();
    expect(typeof app.fetch).toBe('function');
  });
});
