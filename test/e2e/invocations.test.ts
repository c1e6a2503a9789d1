import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHearth, type TestHearth } from '../helpers/hearth.ts';
import { waitFor } from '../helpers/host.ts';

let h: TestHearth;

beforeAll(async () => {
  h = await startHearth({ env: { HEARTH_CALLBACK_BACKOFF_MS: '100' } });
});

afterAll(async () => {
  await h?.close();
});

async function finished(id: string, timeoutMs = 30_000): Promise<any> {
  let record: any;
  await waitFor(async () => {
    record = (await h.api('GET', `/v1/invocations/${id}`)).body;
    return record?.status === 'succeeded' || record?.status === 'failed';
  }, timeoutMs);
  return record;
}

describe('async invocations', () => {
  it('accepts at once, knows the id right away and keeps the result', async () => {
    await h.deploy('slow-add', 'export default async (e) => { console.log("adding", e.a, e.b); await new Promise((r) => setTimeout(r, 300)); return { sum: e.a + e.b }; }');
    const res = await h.api('POST', '/v1/functions/slow-add/invocations', { a: 1, b: 2 });
    expect(res.status).toBe(202);
    const id = res.body.id as string;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    // Never a 404 for an accepted id, not even before a worker took it.
    const early = await h.api('GET', `/v1/invocations/${id}`);
    expect(early.status).toBe(200);
    expect(['queued', 'running']).toContain(early.body.status);

    const record = await finished(id);
    expect(record).toMatchObject({
      id,
      function: 'slow-add',
      version: 1,
      status: 'succeeded',
      result: { sum: 3 },
      attempts: 1,
      coldStart: true,
    });
    expect(Date.parse(record.queuedAt)).toBeLessThanOrEqual(Date.parse(record.startedAt));
    expect(Date.parse(record.startedAt)).toBeLessThanOrEqual(Date.parse(record.finishedAt));
    expect(record.durationMs).toBeGreaterThanOrEqual(300);

    const logs = await h.api('GET', `/v1/invocations/${id}/logs`);
    expect(logs.status).toBe(200);
    expect(logs.body.logs).toEqual([{ time: expect.any(Number), stream: 'stdout', line: 'adding 1 2' }]);
  });

  it('answers 404 for an unknown invocation and function', async () => {
    expect((await h.api('GET', '/v1/invocations/00000000-0000-0000-0000-000000000000')).status).toBe(404);
    expect((await h.api('POST', '/v1/functions/nope/invocations', {})).body.error.code).toBe('not_found');
  });

  it('runs an invocation once per Idempotency-Key, async and sync', async () => {
    await h.deploy('count', 'let n = 0; export default () => ({ n: ++n })');
    const first = await h.api('POST', '/v1/functions/count/invocations', {}, { 'idempotency-key': 'k-1' });
    const again = await h.api('POST', '/v1/functions/count/invocations', {}, { 'idempotency-key': 'k-1' });
    expect(again.body.id).toBe(first.body.id);
    expect((await finished(first.body.id)).result).toEqual({ n: 1 });

    const s1 = await h.api('POST', '/v1/functions/count/invoke', {}, { 'idempotency-key': 'k-2' });
    const s2 = await h.api('POST', '/v1/functions/count/invoke', {}, { 'idempotency-key': 'k-2' });
    expect(s1.status).toBe(200);
    expect(s1.body).toEqual({ n: 2 });
    expect(s2.body).toEqual({ n: 2 });
    expect(s2.headers.get('x-hearth-invocation-id')).toBe(s1.headers.get('x-hearth-invocation-id'));
    // A different key runs again.
    expect((await h.api('POST', '/v1/functions/count/invoke', {}, { 'idempotency-key': 'k-3' })).body).toEqual({ n: 3 });
  });

  it('retries with backoff, then lists the dead letter and runs it again on request', async () => {
    await h.deploy(
      'flaky',
      'export default (e) => { console.log("try", e.tag); if (!e.ok) throw new Error("boom " + e.tag); return "fine"; }',
      { retries: { attempts: 2, backoffMs: 200 } },
    );
    const res = await h.api('POST', '/v1/functions/flaky/invocations', { tag: 'x', ok: false });
    const record = await finished(res.body.id);
    expect(record).toMatchObject({ status: 'failed', attempts: 3, maxAttempts: 3, deadLetter: true, error: { code: 'function_error', message: 'boom x' } });
    // Exponential: 200 ms then 400 ms between the three attempts.
    const logs = (await h.api('GET', `/v1/invocations/${res.body.id}/logs`)).body.logs as { time: number; line: string }[];
    const tries = logs.filter((l) => l.line === 'try x');
    expect(tries).toHaveLength(3);
    expect(tries[1]!.time - tries[0]!.time).toBeGreaterThanOrEqual(190);
    expect(tries[2]!.time - tries[1]!.time).toBeGreaterThanOrEqual(390);

    const dead = await h.api('GET', '/v1/functions/flaky/dead-letters');
    expect(dead.body.deadLetters.map((d: { id: string }) => d.id)).toEqual([res.body.id]);

    const retry = await h.api('POST', `/v1/invocations/${res.body.id}/retry`);
    expect(retry.status).toBe(202);
    expect(retry.body.retryOf).toBe(res.body.id);
    const rerun = await finished(retry.body.id);
    expect(rerun).toMatchObject({ status: 'failed', retryOf: res.body.id, deadLetter: true });
    const after = (await h.api('GET', '/v1/functions/flaky/dead-letters')).body.deadLetters.map((d: { id: string }) => d.id);
    expect(after).toEqual([retry.body.id]);
    expect((await h.api('GET', `/v1/invocations/${res.body.id}`)).body).toMatchObject({ deadLetter: false, retriedAs: retry.body.id });
    // Only dead letters can be retried.
    const ok = await h.api('POST', '/v1/functions/flaky/invocations', { tag: 'y', ok: true });
    await finished(ok.body.id);
    expect((await h.api('POST', `/v1/invocations/${ok.body.id}/retry`)).status).toBe(400);
  });

  it('POSTs the final record to callbackUrl, retrying while the receiver fails', async () => {
    const received: { body: any; status: number }[] = [];
    const server: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const status = received.length < 2 ? 503 : 200;
        received.push({ body: JSON.parse(body), status });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      const callbackUrl = `http://127.0.0.1:${port}/done`;
      const res = await h.api('POST', `/v1/functions/slow-add/invocations?callbackUrl=${encodeURIComponent(callbackUrl)}`, { a: 5, b: 6 });
      expect(res.status).toBe(202);
      await waitFor(() => received.some((r) => r.status === 200), 20_000);
      expect(received.map((r) => r.status)).toEqual([503, 503, 200]);
      expect(received[2]!.body).toMatchObject({ id: res.body.id, status: 'succeeded', result: { sum: 11 } });
    } finally {
      server.close();
    }
  });

  it('never hangs a sync caller: a stuck function is a 504 timeout, a crashed container a 500 internal', async () => {
    await h.deploy('stuck', 'export default () => new Promise(() => { for (;;) {} })', { timeoutMs: 500 });
    const started = Date.now();
    const stuck = await h.invoke('stuck', {});
    expect(stuck.status).toBe(504);
    expect(stuck.body.error.code).toBe('timeout');
    // Within the function's timeout plus the start margin (cold start included).
    expect(Date.now() - started).toBeLessThan(500 + 10_000);

    await h.deploy('crasher', 'export default () => { setTimeout(() => process.exit(3), 10); return new Promise(() => {}); }');
    const crashed = await h.invoke('crasher', {});
    expect(crashed.status).toBe(500);
    expect(crashed.body.error.code).toBe('internal');
    expect(crashed.body.error.message).toMatch(/exited/);
  });
});

describe('record retention', () => {
  it('removes records and logs after HEARTH_RESULT_TTL_S', async () => {
    const short = await startHearth({ env: { HEARTH_RESULT_TTL_S: '1' } });
    try {
      await short.deploy('quick', 'export default () => { console.log("hi"); return 1; }');
      const { body } = await short.api('POST', '/v1/functions/quick/invocations', {});
      await waitFor(async () => (await short.api('GET', `/v1/invocations/${body.id}`)).body?.status === 'succeeded', 30_000);
      await waitFor(async () => (await short.api('GET', `/v1/invocations/${body.id}`)).status === 404, 10_000, 200);
      expect((await short.api('GET', `/v1/invocations/${body.id}/logs`)).status).toBe(404);
    } finally {
      await short.close();
    }
  });
});
