import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startSharedRedis } from '../helpers/child-hearth.ts';
import { InvocationProducer } from '../../src/scheduler/producer.ts';

let redis: { url: string; close(): Promise<void> };
let client: Redis;
let observer: Redis;
let producer: InvocationProducer;

beforeAll(async () => {
  redis = await startSharedRedis();
  client = new Redis({ path: new URL(redis.url).pathname, maxRetriesPerRequest: 1 });
  observer = new Redis({ path: new URL(redis.url).pathname, maxRetriesPerRequest: 1 });
  producer = new InvocationProducer(client, `pp-${randomUUID().slice(0, 8)}`);
});

afterAll(async () => {
  await producer?.close();
  client?.disconnect();
  observer?.disconnect();
  await redis?.close();
});

/** INFO commands the server has run so far, not counting the one that asks. */
async function infoCalls(): Promise<number> {
  const stats = await observer.info('commandstats');
  return Number(/cmdstat_info:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

describe("a function's queue set up ahead (InvocationProducer.prepare)", () => {
  it("a prepared queue's first command is its own; an unprepared one first waits for BullMQ's set-up (INFO)", async () => {
    producer.prepare('ready');
    // Its set-up takes a few ms: long done by then.
    await new Promise((r) => setTimeout(r, 300));
    let before = await infoCalls();
    await producer.queue('ready').waitUntilReady();
    expect(await producer.queue('ready').count()).toBe(0);
    expect((await infoCalls()) - before).toBe(1); // the asking INFO only

    before = await infoCalls();
    await producer.queue('cold').waitUntilReady();
    expect(await producer.queue('cold').count()).toBe(0);
    expect((await infoCalls()) - before).toBe(2); // the set-up's INFO came first
  });

  it('never throws, whatever Redis does', async () => {
    const down = new Redis({ port: 1, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    const unreachable = new InvocationProducer(down, 'pp-down');
    expect(() => unreachable.prepare('f')).not.toThrow();
    await new Promise((r) => setTimeout(r, 50));
    await unreachable.close().catch(() => undefined);
    down.disconnect();
  });
});
