import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startSharedRedis } from '../helpers/child-hearth.ts';
import { InvocationStore } from '../../src/scheduler/invocation-store.ts';
import { InvocationProducer } from '../../src/scheduler/producer.ts';
import { SubmissionBatch, type Submission } from '../../src/scheduler/submission-batch.ts';
import { queuedRecord } from '../../src/scheduler/invocation-record.ts';

let redis: { url: string; close(): Promise<void> };
let client: Redis;
let producer: InvocationProducer;
let store: InvocationStore;

beforeAll(async () => {
  redis = await startSharedRedis();
  client = new Redis({ path: new URL(redis.url).pathname, maxRetriesPerRequest: 1 });
  const prefix = `sb-${randomUUID().slice(0, 8)}`;
  producer = new InvocationProducer(client, prefix);
  store = new InvocationStore(client, 3600, prefix);
});

afterAll(async () => {
  await producer?.close();
  client?.disconnect();
  await redis?.close();
});

function submission(fn: string, event: unknown = { n: 1 }): Submission {
  const id = randomUUID();
  const now = Date.now();
  return {
    record: queuedRecord({ id, function: fn, version: null, trigger: 'async', maxAttempts: 1, queuedAt: now }),
    event,
    job: { invocationId: id, function: fn, event, enqueuedAt: now, trigger: 'async' },
    retries: { attempts: 0, backoffMs: 1000 },
  };
}

/** Redis' count of EXEC calls so far: one per MULTI that ran. */
async function execCalls(): Promise<number> {
  const stats = await client.info('commandstats');
  return Number(/cmdstat_exec:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

describe('SubmissionBatch', () => {
  it('writes the submissions of one moment together: every record, event and job is in Redis when each resolves', async () => {
    const batch = new SubmissionBatch(store, producer);
    const subs = [...Array.from({ length: 30 }, () => submission('alpha')), ...Array.from({ length: 20 }, () => submission('beta', 'b'))];
    const before = await execCalls();
    await Promise.all(subs.map((s) => batch.submit(s)));
    // One MULTI for the records, one addBulk per function: far fewer than one per submission.
    expect((await execCalls()) - before).toBeLessThanOrEqual(3);
    for (const s of subs) {
      expect((await store.get(s.record.id))?.status).toBe('queued');
      expect(await store.getEvent(s.record.id)).toEqual(s.event);
      expect(await producer.queue(s.job.function).getJob(s.record.id)).toBeDefined();
    }
    expect(await producer.queue('alpha').getWaitingCount()).toBe(30);
    expect(await producer.queue('beta').getWaitingCount()).toBe(20);
  });

  it('submissions made while a batch is written go in the next one, and all resolve', async () => {
    const batch = new SubmissionBatch(store, producer);
    const first = submission('gamma');
    const writing = batch.submit(first);
    await new Promise((r) => setImmediate(r));
    const later = Array.from({ length: 10 }, () => submission('gamma'));
    await Promise.all([writing, ...later.map((s) => batch.submit(s))]);
    for (const s of [first, ...later]) expect(await producer.queue('gamma').getJob(s.record.id)).toBeDefined();
  });

  it("a function whose jobs cannot be added fails its own submissions and leaves no record of them; the others' stand", async () => {
    const failing = Object.create(producer) as InvocationProducer;
    failing.enqueueMany = async (fn, jobs) => {
      if (fn === 'broken') throw new Error('OOM command not allowed when used memory > maxmemory');
      return producer.enqueueMany(fn, jobs);
    };
    const batch = new SubmissionBatch(store, failing);
    const good = submission('fine');
    const bad = [submission('broken'), submission('broken')];
    const outcomes = await Promise.allSettled([good, ...bad].map((s) => batch.submit(s)));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
    expect(await store.get(good.record.id)).toBeDefined();
    for (const s of bad) {
      expect(await store.get(s.record.id)).toBeUndefined();
      expect(await store.getEvent(s.record.id)).toBeUndefined();
    }
  });

  it('records that cannot be written fail every submission of the batch, and no job is added', async () => {
    const refusing = Object.create(store) as InvocationStore;
    refusing.createMany = async () => {
      throw new Error('EXECABORT Transaction discarded because of previous errors.');
    };
    const batch = new SubmissionBatch(refusing, producer);
    const subs = [submission('delta'), submission('delta')];
    const outcomes = await Promise.allSettled(subs.map((s) => batch.submit(s)));
    expect(outcomes.every((o) => o.status === 'rejected')).toBe(true);
    expect(await producer.queue('delta').getWaitingCount()).toBe(0);
  });
});
