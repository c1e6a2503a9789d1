import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHearth, type TestHearth } from '../helpers/hearth.ts';
import { waitFor } from '../helpers/host.ts';

let h: TestHearth;

beforeAll(async () => {
  h = await startHearth();
});

afterAll(async () => {
  await h?.close();
});

async function record(id: string): Promise<any> {
  let found: any;
  await waitFor(async () => {
    const res = await h.api('GET', `/v1/invocations/${id}`);
    found = res.body;
    return res.status === 200 && (found.status === 'succeeded' || found.status === 'failed');
  }, 10_000);
  return found;
}

describe('sync calls with a free warm container skip the queue', () => {
  it('a warm call runs direct and still gets its record, logs and metrics', async () => {
    await h.deploy('hop', 'export default (e) => { console.log("hop", e.n); return { n: e.n + 1 }; }');
    const cold = await h.invoke('hop', { n: 0 });
    expect(cold.status).toBe(200);
    // No container anywhere yet: the first one starts here, for this call, without the queue.
    expect(cold.headers.get('x-hearth-dispatch')).toBe('direct');
    expect(cold.headers.get('x-hearth-cold-start')).toBe('true');
    const coldId = cold.headers.get('x-hearth-invocation-id')!;
    expect(await record(coldId)).toMatchObject({ id: coldId, status: 'succeeded', trigger: 'sync', attempts: 1, coldStart: true });

    const warm = await h.invoke('hop', { n: 1 });
    expect(warm.status).toBe(200);
    expect(warm.body).toEqual({ n: 2 });
    expect(warm.headers.get('x-hearth-dispatch')).toBe('direct');
    expect(warm.headers.get('x-hearth-cold-start')).toBe('false');

    const id = warm.headers.get('x-hearth-invocation-id')!;
    expect(await record(id)).toMatchObject({ id, function: 'hop', version: 1, status: 'succeeded', trigger: 'sync', attempts: 1, coldStart: false });
    const logs = await h.api('GET', `/v1/invocations/${id}/logs`);
    expect(logs.body.logs).toEqual([{ time: expect.any(Number), stream: 'stdout', line: 'hop 1' }]);
    // Listed among the function's recent invocations, like a queued one.
    const fnLogs = await h.api('GET', '/v1/functions/hop/logs');
    expect(fnLogs.body.logs.map((l: { line: string }) => l.line)).toEqual(['hop 0', 'hop 1']);

    const metrics = await fetch(`${h.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/hearth_sync_dispatch_total\{function="hop",path="direct"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/hearth_invocations_total\{function="hop",outcome="success"[^}]*\} 2/);
    expect(metrics).not.toMatch(/hearth_sync_dispatch_total\{function="hop",path="queued"/);
  });

  it('with work queued for the function, a sync call queues behind it', async () => {
    await h.deploy('one-at-a-time', 'export default async (e) => { await new Promise((r) => setTimeout(r, 300)); return { at: Date.now(), tag: e.tag }; }', {
      maxContainers: 1,
      concurrency: 1,
    });
    expect((await h.invoke('one-at-a-time', { tag: 'warm-up' })).status).toBe(200);
    const queued = await Promise.all([1, 2, 3].map((i) => h.api('POST', '/v1/functions/one-at-a-time/invocations', { tag: `async-${i}` })));
    const sync = await h.invoke('one-at-a-time', { tag: 'sync' });
    expect(sync.status).toBe(200);
    expect(sync.headers.get('x-hearth-dispatch')).toBe('queued');
    // It did not overtake: every async invocation submitted before it finished before it.
    for (const q of queued) expect((await record(q.body.id)).result.at).toBeLessThan(sync.body.at);
  });

  it('an Idempotency-Key resubmission answers the direct run without running again', async () => {
    await h.deploy('counter', 'let n = 0; export default () => ({ n: ++n })');
    expect((await h.invoke('counter', {})).body).toEqual({ n: 1 });
    const first = await h.api('POST', '/v1/functions/counter/invoke', {}, { 'idempotency-key': 'direct-1' });
    expect(first.headers.get('x-hearth-dispatch')).toBe('direct');
    expect(first.body).toEqual({ n: 2 });
    const again = await h.api('POST', '/v1/functions/counter/invoke', {}, { 'idempotency-key': 'direct-1' });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ n: 2 });
    expect(again.headers.get('x-hearth-invocation-id')).toBe(first.headers.get('x-hearth-invocation-id'));
    expect((await h.invoke('counter', {})).body).toEqual({ n: 3 });
  });

  it('a direct call that runs past timeoutMs is a 504 timeout, recorded as such', async () => {
    await h.deploy('sometimes-stuck', 'export default (e) => e.stuck ? new Promise(() => { for (;;) {} }) : "ok"', { timeoutMs: 500 });
    expect((await h.invoke('sometimes-stuck', {})).status).toBe(200);
    const started = Date.now();
    const stuck = await h.invoke('sometimes-stuck', { stuck: true });
    expect(stuck.headers.get('x-hearth-dispatch')).toBe('direct');
    expect(stuck.status).toBe(504);
    expect(stuck.body.error.code).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(5000);
    const id = stuck.headers.get('x-hearth-invocation-id')!;
    expect(await record(id)).toMatchObject({ status: 'failed', error: { code: 'timeout' } });
    // The stuck container is gone; the next call starts a fresh one.
    const next = await h.invoke('sometimes-stuck', {});
    expect(next.status).toBe(200);
    expect(next.headers.get('x-hearth-cold-start')).toBe('true');
  });
});
