import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startSmallRedis, type SmallRedis } from '../helpers/small-redis.ts';
import { waitFor } from '../helpers/host.ts';
import { InvocationStore } from '../../src/scheduler/invocation-store.ts';
import { InvocationProducer } from '../../src/scheduler/producer.ts';
import { InvocationWorkers } from '../../src/scheduler/worker-set.ts';
import { RecordWriter } from '../../src/scheduler/record-writer.ts';
import { queuedRecord } from '../../src/scheduler/invocation-record.ts';
import type { InvocationJob, InvocationResult } from '../../src/scheduler/invocation.ts';

let redis: SmallRedis;
let client: Redis;

beforeAll(async () => {
  redis = await startSmallRedis('16mb');
  // As Hearth's own connections: commands wait through an outage rather than fail.
  client = new Redis(redis.url.replace('redis+socket://', ''), { maxRetriesPerRequest: null });
});

afterAll(async () => {
  client?.disconnect();
  await redis?.close();
});

/** A function's queue served by one node, with a function that runs when the test lets it. */
function node(prefix: string) {
  const store = new InvocationStore(client, 3600, prefix);
  const producer = new InvocationProducer(client, prefix);
  const records = new RecordWriter(store);
  const runs: { job: InvocationJob; finish: () => void }[] = [];
  const execute = (job: InvocationJob) =>
    new Promise<InvocationResult>((resolve) => {
      const result: InvocationResult = { invocationId: job.invocationId, function: job.function, version: 1, ok: true, result: job.event, coldStart: false, containerId: 'c', queuedMs: 0, durationMs: 1, logs: [] };
      runs.push({ job, finish: () => resolve(result) });
    });
  let workers: InvocationWorkers | undefined;
  return {
    store,
    runs,
    /** Queues an async invocation of `fn` as the API does: its record, then its job. */
    async submit(fn: string): Promise<string> {
      const id = randomUUID();
      await store.create(queuedRecord({ id, function: fn, version: null, trigger: 'async', maxAttempts: 1, queuedAt: Date.now() }), { id });
      await producer.enqueue({ invocationId: id, function: fn, event: { id }, enqueuedAt: Date.now(), trigger: 'async' }, { attempts: 0, backoffMs: 1000 });
      return id;
    },
    serve(fn: string): void {
      workers = new InvocationWorkers(client, execute, { store, records, prefix, lockMs: 2000 });
      workers.ensure(fn, 1);
    },
    jobState: (fn: string, id: string) => producer.queue(fn).getJobState(id),
    async close() {
      await workers?.close();
      await records.close();
      await producer.close();
    },
  };
}

describe('a job whose record Redis refuses for being full (maxmemory)', () => {
  let n: ReturnType<typeof node> | undefined;
  afterEach(async () => {
    await redis.makeRoom();
    for (const run of n?.runs ?? []) run.finish();
    await n?.close();
  });

  it('is neither failed nor lost when its end cannot be recorded: it runs again once Redis has room', async () => {
    n = node(`full-${randomUUID().slice(0, 8)}`);
    const id = await n.submit('fn');
    n.serve('fn');
    await waitFor(() => n!.runs.length === 1, 5000, 10);
    expect((await n.store.get(id))?.status).toBe('running');
    await redis.overLimit();
    n.runs[0]!.finish();
    // Before the fix BullMQ failed the job here (its record refused), leaving the record running for good.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await n.jobState('fn', id)).not.toBe('failed');
    expect(n.runs).toHaveLength(1);
    expect((await n.store.get(id))?.status).toBe('running');

    await redis.makeRoom();
    await waitFor(() => n!.runs.length === 2, 10_000, 20);
    expect(n.runs[1]!.job.invocationId).toBe(id);
    n.runs[1]!.finish();
    await waitFor(async () => (await n!.store.get(id))?.status === 'succeeded', 5000, 20);
    expect((await n.store.get(id))?.attempts).toBe(1);
    expect(await n.jobState('fn', id)).toBe('completed');
  });

  it('is not taken while Redis refuses writes, and runs once when Redis has room', async () => {
    n = node(`full-${randomUUID().slice(0, 8)}`);
    const id = await n.submit('fn');
    await redis.overLimit();
    n.serve('fn');
    await new Promise((r) => setTimeout(r, 1500));
    expect(n.runs).toHaveLength(0);
    expect(await n.jobState('fn', id)).not.toBe('failed');
    expect((await n.store.get(id))?.status).toBe('queued');

    await redis.makeRoom();
    await waitFor(() => n!.runs.length === 1, 10_000, 20);
    n.runs[0]!.finish();
    await waitFor(async () => (await n!.store.get(id))?.status === 'succeeded', 5000, 20);
    expect(n.runs).toHaveLength(1);
  });
});
