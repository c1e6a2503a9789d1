import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startSharedRedis } from '../helpers/child-hearth.ts';
import { InvocationStore } from '../../src/scheduler/invocation-store.ts';
import { attemptEnded, attemptFailedWillRetry, attemptStarted, queuedRecord, type InvocationRecord } from '../../src/scheduler/invocation-record.ts';
import type { InvocationTrigger } from '../../src/scheduler/invocation.ts';

let redis: { url: string; close(): Promise<void> };
let client: Redis;

beforeAll(async () => {
  redis = await startSharedRedis();
  client = new Redis({ path: new URL(redis.url).pathname, maxRetriesPerRequest: 1 });
});

afterAll(async () => {
  client?.disconnect();
  await redis?.close();
});

/** A finished record the way a worker writes it: about the size the gateway produces for a small JSON result. */
function finished(fn: string, trigger: InvocationTrigger, ok = true, at = Date.now()): InvocationRecord {
  const queued = queuedRecord({ id: randomUUID(), function: fn, version: 3, trigger, maxAttempts: 1, queuedAt: at - 5 });
  const running = attemptStarted(queued, { attempt: 1, maxAttempts: 1, startedAt: at - 3 });
  return attemptEnded(
    running,
    ok ? { version: 3, ok: true, result: { hello: 'world', n: 42 }, coldStart: false, durationMs: 2.4 }
      : { version: 3, ok: false, error: { code: 'function_error', message: 'boom' }, coldStart: false, durationMs: 2.4 },
    { final: true, keepResult: trigger !== 'sync', finishedAt: at },
  );
}

const logs = [{ time: Date.now(), stream: 'stdout' as const, line: 'handled one request' }];

async function flush(): Promise<void> {
  await client.flushall();
}

describe('invocation record retention', () => {
  it('keeps Redis under 64 MB after 100,000 sync records, capped per function', async () => {
    await flush();
    const store = new InvocationStore(client, { ttlS: 86_400, syncTtlS: 300, perFunction: 10_000, syncPerFunction: 1_000 });
    const functions = Array.from({ length: 20 }, (_, i) => `fn-${i}`);
    const total = 100_000;
    const started = Date.now();
    // Many writes in flight at once: ioredis pipelines them on the one connection.
    for (let done = 0; done < total; done += 2_000) {
      await Promise.all(Array.from({ length: 2_000 }, (_, i) => store.put(finished(functions[(done + i) % functions.length]!, 'sync', true, started + done + i), logs)));
    }
    const elapsedMs = Date.now() - started;
    const info = await client.info('memory');
    const usedBytes = Number(/used_memory:(\d+)/.exec(info)![1]);
    console.log(JSON.stringify({ records: total, functions: functions.length, elapsedMs, usedMemoryMb: +(usedBytes / 1024 ** 2).toFixed(1), keys: await client.dbsize() }));
    expect(usedBytes).toBeLessThan(64 * 1024 ** 2);
    for (const fn of functions) expect(await client.zcard(`hearth:fn:${fn}:recent:sync`)).toBe(1_000);
    // Record and logs of the kept 1,000 per function, plus the 20 indexes: the trimmed ones are gone, not just unindexed.
    expect(await client.dbsize()).toBe(functions.length * 1_000 * 2 + functions.length);
    const ttl = await client.ttl(`hearth:inv:${(await client.zrange('hearth:fn:fn-0:recent:sync', -1, -1))[0]}`);
    expect(ttl).toBeGreaterThan(250);
    expect(ttl).toBeLessThanOrEqual(300);
  }, 120_000);

  it('batched writes (putMany) keep the same caps: each recent list trimmed once per batch, the trimmed records deleted', async () => {
    await flush();
    const store = new InvocationStore(client, { ttlS: 86_400, syncTtlS: 300, perFunction: 10_000, syncPerFunction: 50 });
    const started = Date.now();
    const written: InvocationRecord[] = [];
    // Batches of 40 over two functions: each batch alone stays under the cap, together they pass it.
    for (let batch = 0; batch < 5; batch++) {
      const records = Array.from({ length: 40 }, (_, i) => finished(`pm-${i % 2}`, 'sync', true, started + batch * 40 + i));
      written.push(...records);
      await store.putMany(records.map((record) => ({ record, logs })));
    }
    for (const fn of ['pm-0', 'pm-1']) {
      const kept = await client.zrange(`hearth:fn:${fn}:recent:sync`, 0, -1);
      // The newest 50 of the function's 100, oldest first.
      expect(kept).toEqual(written.filter((r) => r.function === fn).slice(-50).map((r) => r.id));
      expect(await client.ttl(`hearth:fn:${fn}:recent:sync`)).toBeGreaterThan(250);
    }
    expect(await client.dbsize()).toBe(2 * 50 * 2 + 2);
    const newest = written.at(-1)!;
    expect(await store.get(newest.id)).toMatchObject({ id: newest.id, status: 'succeeded' });
  });

  it('batched writes (putMany) of async records: logs and TTL kept, a success leaves the dead letters, others written whole', async () => {
    await flush();
    const store = new InvocationStore(client, { ttlS: 3_600, syncTtlS: 60, perFunction: 100, syncPerFunction: 100 });
    const failed = { ...finished('pa', 'async', false), deadLetter: true };
    await store.put(failed);
    expect(await client.zrange('hearth:fn:pa:dead', 0, -1)).toEqual([failed.id]);
    // The same id succeeded on a retry; a second, new one is still running; a third failed for good.
    const retried = { ...finished('pa', 'async'), id: failed.id };
    const running = attemptStarted(queuedRecord({ id: randomUUID(), function: 'pa', version: 3, trigger: 'async', maxAttempts: 1, queuedAt: Date.now() }), { attempt: 1, maxAttempts: 1, startedAt: Date.now() });
    const dead = { ...finished('pa', 'async', false), deadLetter: true };
    await store.putMany([{ record: retried, logs }, { record: running }, { record: dead }]);
    expect(await store.get(retried.id)).toEqual(retried);
    expect(await store.getLogs(retried.id)).toEqual(logs);
    expect(await client.ttl(`hearth:inv:${retried.id}:logs`)).toBeGreaterThan(3_500);
    expect(await store.get(running.id)).toEqual(running);
    expect(await client.zrange('hearth:fn:pa:dead', 0, -1)).toEqual([dead.id]);
    expect(new Set(await client.zrange('hearth:fn:pa:recent', 0, -1))).toEqual(new Set([retried.id, dead.id]));
    expect(await client.ttl('hearth:fn:pa:recent')).toBeGreaterThan(3_500);
  });

  it('deletes the oldest async records with their event, logs and dead-letter entry past the cap', async () => {
    await flush();
    const store = new InvocationStore(client, { ttlS: 3_600, syncTtlS: 60, perFunction: 3, syncPerFunction: 2 });
    const t0 = Date.now();
    const records: InvocationRecord[] = [];
    for (let i = 0; i < 5; i++) {
      const r = finished('work', 'async', i % 2 === 0, t0 + i);
      await store.create(r, { i });
      await store.put(r, logs);
      records.push(r);
    }
    // Two oldest are gone entirely; the three newest remain with their parts.
    for (const r of records.slice(0, 2)) {
      expect(await store.get(r.id)).toBeUndefined();
      expect(await client.exists(`hearth:inv:${r.id}:event`, `hearth:inv:${r.id}:logs`)).toBe(0);
    }
    for (const r of records.slice(2)) {
      expect((await store.get(r.id))?.status).toBeDefined();
      expect(await store.getEvent(r.id)).toEqual({ i: records.indexOf(r) });
    }
    expect(await client.zrange('hearth:fn:work:recent', 0, -1)).toEqual(records.slice(2).map((r) => r.id));
    // Failed ones (0, 2, 4 failed? no: even i succeeded) — the dead letters hold only surviving ids.
    const dead = await client.zrange('hearth:fn:work:dead', 0, -1);
    expect(dead).toEqual([records[3]!.id]);
    expect(await client.ttl(`hearth:inv:${records[4]!.id}`)).toBeGreaterThan(3_500);

    // Sync records of the same function have their own, smaller cap and TTL, and leave the async ones alone.
    for (let i = 0; i < 4; i++) await store.put(finished('work', 'sync', true, t0 + 10 + i));
    expect(await client.zcard('hearth:fn:work:recent:sync')).toBe(2);
    expect(await client.zcard('hearth:fn:work:recent')).toBe(3);
    const syncId = (await client.zrange('hearth:fn:work:recent:sync', -1, -1))[0]!;
    expect(await client.ttl(`hearth:inv:${syncId}`)).toBeLessThanOrEqual(60);
    // The function's log view still sees both kinds.
    const lines = await store.functionLogs('work', 0, 100);
    expect(new Set(lines.map((l) => l.invocationId))).toEqual(new Set(records.slice(2).map((r) => r.id)));
  });

  it('startAttempt marks a record running in Redis exactly as attemptStarted would, keeps its TTL, leaves a finished one alone', async () => {
    await flush();
    const store = new InvocationStore(client, { ttlS: 3_600 });
    const fresh = queuedRecord({ id: randomUUID(), function: 'sa', version: null, trigger: 'async', maxAttempts: 3, queuedAt: Date.now(), callbackUrl: 'http://127.0.0.1:9/cb', retryOf: 'x' });
    // A retry's record: queued again with the first attempt's error, duration and cold start.
    const first = attemptStarted({ ...fresh, id: randomUUID() }, { attempt: 1, maxAttempts: 3, startedAt: Date.now(), node: 'a' });
    const retrying = attemptFailedWillRetry(first, { version: 2, ok: false, error: { code: 'function_error', message: 'boom "quoted" ✓/' }, coldStart: true, durationMs: 12 });
    for (const [record, start] of [
      [fresh, { attempt: 1, maxAttempts: 3, startedAt: Date.now() }],
      [retrying, { attempt: 2, maxAttempts: 3, startedAt: Date.now() + 5, redeliveries: 1, node: 'b' }],
    ] as const) {
      await store.create(record, { n: 1 });
      const started = await store.startAttempt(record.id, start);
      expect(started).toEqual({ running: attemptStarted(record, start) });
      expect(await store.get(record.id)).toEqual(attemptStarted(record, start));
      expect(await client.ttl(`hearth:inv:${record.id}`)).toBeGreaterThan(3_500);
    }
    const done = finished('sa', 'async');
    await store.put(done);
    expect(await store.startAttempt(done.id, { attempt: 2, maxAttempts: 2, startedAt: Date.now() })).toEqual({ finished: done });
    expect(await store.get(done.id)).toEqual(done);
    expect(await store.startAttempt(randomUUID(), { attempt: 1, maxAttempts: 1, startedAt: Date.now() })).toBeUndefined();
  });
  it('a lowered cap trims thousands of records in one write: records, events, logs and dead letters all go', async () => {
    await flush();
    const t0 = Date.now();
    const records = Array.from({ length: 2_600 }, (_, i) => finished('lots', 'async', i % 3 !== 0, t0 + i));
    const tx = client.pipeline();
    for (const r of records) {
      tx.set(`hearth:inv:${r.id}`, JSON.stringify(r)).set(`hearth:inv:${r.id}:event`, '{}').set(`hearth:inv:${r.id}:logs`, '[]');
      tx.zadd('hearth:fn:lots:recent', Date.parse(r.finishedAt!), r.id);
      if (r.status === 'failed') tx.zadd('hearth:fn:lots:dead', Date.parse(r.finishedAt!), r.id);
    }
    await tx.exec();
    // Written as a store with a high cap left them; a cap of 4 now: 2,597 fall off at once, several slices of the trim.
    const narrow = new InvocationStore(client, { ttlS: 3_600, syncTtlS: 60, perFunction: 4, syncPerFunction: 10 });
    const newest = finished('lots', 'async', true, t0 + 10_000);
    await narrow.putMany([{ record: newest, logs }]);
    const kept = [...records.slice(-3), newest];
    expect(await client.zrange('hearth:fn:lots:recent', 0, -1)).toEqual(kept.map((r) => r.id));
    expect(await client.dbsize()).toBeLessThan(4 * 3 + 5);
    for (const r of kept.slice(0, 3)) expect(await client.exists(`hearth:inv:${r.id}`, `hearth:inv:${r.id}:event`, `hearth:inv:${r.id}:logs`)).toBe(3);
    expect(await client.zrange('hearth:fn:lots:dead', 0, -1)).toEqual(kept.filter((r) => r.status === 'failed').map((r) => r.id));
  });
});
