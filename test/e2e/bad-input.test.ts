import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { startHearth, type TestHearth } from '../helpers/hearth.ts';

/**
 * Bad input on every route: fast-check generates path parameters, query strings, bodies,
 * content types and headers for every operation the server's own /openapi.json lists, some
 * random, some a valid request with one field broken. Whatever comes in, the answer is a JSON
 * error below 500 (a function's own failure aside), and the server keeps serving.
 */

let h: TestHearth;
const FN = 'fuzz-echo';

interface Op { method: string; path: string; id: string; hasBody: boolean; query: string[] }
let ops: Op[] = [];

beforeAll(async () => {
  h = await startHearth();
  expect((await h.deploy(FN, 'export default (e) => e')).status).toBe(201);
  const doc = (await h.api('GET', '/openapi.json')).body as { paths: Record<string, Record<string, { operationId: string; requestBody?: unknown; parameters?: { in: string; name: string }[] }>> };
  ops = Object.entries(doc.paths).flatMap(([p, methods]) => Object.entries(methods).map(([method, op]) => ({
    method: method.toUpperCase(),
    path: p,
    id: op.operationId,
    hasBody: op.requestBody !== undefined,
    query: (op.parameters ?? []).filter((x) => x.in === 'query').map((x) => x.name),
  })));
}, 120_000);

afterAll(async () => {
  await h?.close();
});

/** A valid body per operation, for "valid but one field broken" cases. */
const validBodies: Record<string, Record<string, unknown>> = {
  deployFunction: { name: 'fuzz-new', source: 'export default (e) => e', config: { memoryMb: 128 } },
  rollback: { version: 1 },
  putSchedule: { cron: '0 3 * * *', tz: 'UTC', event: {} },
  putSecret: { value: 'x' },
};

/** Printable ASCII: what fetch lets through in a header value. */
const headerText = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 80 });
const token = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-'.split('')), minLength: 1, maxLength: 20 });

const pathParam = fc.oneof(
  fc.constant(FN),
  fc.constant('fuzz-missing'),
  fc.uuid(),
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
  fc.string({ unit: 'binary', maxLength: 20 }).map(encodeURIComponent),
  fc.constantFrom('..', '%2e%2e', '%00', '%ff', '%', 'a'.repeat(300), '-', 'A', '0', ' ', '%20', '.', 'x%2Fy', 'null', '__proto__', 'constructor'),
);

const mutatedBody = (base: Record<string, unknown>) => fc.tuple(
  fc.constantFrom(...Object.keys(base), 'unexpected'),
  fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constant(undefined), fc.string(), fc.integer(), fc.double(), fc.constant(null)),
).map(([key, value]) => JSON.stringify({ ...base, [key]: value }));

const body = (opId: string) => fc.oneof(
  fc.constant(undefined),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
  fc.constantFrom('{', '[', '{"a":', 'null', '""', '[]'.repeat(1), '['.repeat(10_000), `"${'x'.repeat(200_000)}"`, '{"__proto__":{"polluted":1}}', '\uFEFF{}'),
  ...(validBodies[opId] ? [mutatedBody(validBodies[opId]!)] : []),
);

const contentType = fc.oneof(
  fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16', 'application/octet-stream', ''),
  headerText,
);

const request = fc.integer({ min: 0, max: 10_000 }).chain((i) => {
  const op = ops[i % ops.length]!;
  return fc.record({
    op: fc.constant(op),
    params: fc.array(pathParam, { minLength: 4, maxLength: 4 }),
    query: fc.array(fc.tuple(fc.constantFrom(...op.query, 'x', 'version', 'limit'), fc.oneof(headerText.map(encodeURIComponent), fc.integer().map(String))), { maxLength: 3 }),
    body: op.hasBody || op.method !== 'GET' ? body(op.id) : fc.constant(undefined),
    contentType,
    headers: fc.array(fc.tuple(fc.constantFrom('authorization', 'accept', 'x-request-id', 'accept-encoding', 'x-hearth-version', 'if-none-match'), headerText), { maxLength: 3 }),
    extraHeaders: fc.array(fc.tuple(token.map((t) => `x-${t}`), headerText), { maxLength: 2 }),
  });
});

describe('bad input on every operation', () => {
  it('never answers 5xx (other than a function failing), always a JSON error, never takes the server down', async () => {
    expect(ops.length).toBeGreaterThan(20);
    const seen = new Map<string, number>();
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        let i = 0;
        const url = r.op.path.replace(/\{\w+\}/g, () => r.params[i++]!) + (r.query.length ? `?${r.query.map(([k, v]) => `${k}=${v}`).join('&')}` : '');
        const headers: Record<string, string> = {};
        for (const [k, v] of [...r.headers, ...r.extraHeaders]) headers[k] = v;
        if (r.body !== undefined) headers['content-type'] = r.contentType;
        const res = await fetch(h.url + url, { method: r.op.method, headers, ...(r.body !== undefined ? { body: r.body } : {}), signal: AbortSignal.timeout(20_000) });
        const text = await res.text();
        // Keep the function the cases aim at: a fuzzed DELETE may have removed it.
        if (r.op.id === 'removeFunction' && res.status === 204) await h.deploy(FN, 'export default (e) => e');
        seen.set(`${r.op.id} ${res.status}`, (seen.get(`${r.op.id} ${res.status}`) ?? 0) + 1);
        const what = `${r.op.method} ${url} (${r.contentType}) → ${res.status} ${text.slice(0, 300)}`;
        if (res.status >= 400) {
          const parsed = JSON.parse(text) as { error?: { code?: unknown } };
          expect(typeof parsed.error?.code, what).toBe('string');
          if (res.status >= 500) {
            // Only the function's own failure may be a 5xx, and only where a function runs.
            expect(['invoke'].includes(r.op.id) && parsed.error?.code === 'function_error', what).toBe(true);
          }
        }
      }),
      { numRuns: 2000, interruptAfterTimeLimit: 45_000, markInterruptAsFailure: false, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31) },
    );
    // Still serving, and still running functions.
    expect((await h.api('GET', '/healthz')).status).toBe(200);
    const after = await h.deploy('fuzz-after', 'export default (e) => ({ ok: e })');
    expect(after.status).toBe(201);
    expect((await h.invoke('fuzz-after', 1)).body).toEqual({ ok: 1 });
    const ids = new Set([...seen.keys()].map((k) => k.split(' ')[0]));
    console.log(`[fuzz] ${[...seen.values()].reduce((a, b) => a + b, 0)} requests over ${ids.size} operations in ${Date.now() - started} ms; statuses: ${JSON.stringify(Object.fromEntries([...seen].sort()))}`);
  }, 90_000);
});
