import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHearth, type TestHearth } from '../helpers/hearth.ts';
import { startSmallRedis, type SmallRedis } from '../helpers/small-redis.ts';
import { canRunContainers, waitFor } from '../helpers/host.ts';
import { isRedisFull } from '../../src/errors/index.ts';

describe('Redis at maxmemory', () => {
  let redis: SmallRedis;
  beforeAll(async () => {
    redis = await startSmallRedis('24mb');
  });
  afterAll(async () => {
    await redis?.close();
  });

  it('recognises the refusal Redis answers, plain and inside MULTI', async () => {
    try {
      await redis.fill();
      // Used memory is not monotonic (buffers are freed between writes): a single write right after
      // the fill may still fit, so write until Redis refuses, then check the refusal is recognised.
      const firstRefusal = async (write: (i: number) => Promise<unknown>): Promise<unknown> => {
        for (let i = 0; i < 1000; i++) {
          const err = await write(i).then(() => undefined, (e: unknown) => e);
          if (err !== undefined) return err;
        }
        return undefined;
      };
      const plain = await firstRefusal((i) => redis.client.set(`one-more:${i}`, 'x'.repeat(1024)));
      expect(isRedisFull(plain)).toBe(true);
      const multi = await firstRefusal((i) => redis.client.multi().set(`a:${i}`, 'x'.repeat(1024)).set(`b:${i}`, '2').exec());
      expect(isRedisFull(multi)).toBe(true);
      expect(isRedisFull(new Error('connect ECONNREFUSED'))).toBe(false);
    } finally {
      await redis.client.flushall();
    }
  });

  describe.skipIf(!canRunContainers)('through the API', () => {
    let h: TestHearth;
    afterAll(async () => {
      await h?.close();
    });

    it('refuses new work with 503 unavailable, keeps answering reads, and loses nothing it accepted', async () => {
      h = await startHearth({ env: { REDIS_URL: redis.url, HEARTH_JOB_LOCK_MS: '2000' } });
      // One container, 300 ms each: most accepted jobs are still queued when Redis fills up.
      expect((await h.deploy('echo', 'export default async (e) => { await new Promise((r) => setTimeout(r, 300)); return e; }', { maxContainers: 1 })).status).toBe(201);
      const accepted: string[] = [];
      for (let n = 0; n < 5; n++) accepted.push((await h.api('POST', '/v1/functions/echo/invocations', { n })).body.id);

      await redis.fill();
      const pending = await Promise.all(accepted.map(async (id) => (await h.api('GET', `/v1/invocations/${id}`)).body.status));
      expect(pending.filter((s) => s !== 'succeeded').length).toBeGreaterThan(0);
      // Used memory is not monotonic (see above), and the jobs finishing meanwhile free some: a
      // submission right after the fill may still fit. Then it is accepted and must not be lost
      // either; Redis is topped up again, and refuses one of the next few.
      let refused = await h.api('POST', '/v1/functions/echo/invocations', { n: 99 });
      for (let tries = 0; refused.status === 202 && tries < 20; tries++) {
        accepted.push(refused.body.id);
        await redis.fill();
        refused = await h.api('POST', '/v1/functions/echo/invocations', { n: 99 });
      }
      expect(refused.status).toBe(503);
      expect(refused.body.error.code).toBe('unavailable');
      expect(refused.body.error.message).toMatch(/maxmemory/);
      expect(refused.headers.get('retry-after')).toBe('5');
      // The same for a sync call: one that still fits runs (behind the queued jobs) and answers 200.
      let sync = await h.invoke('echo', { n: 100 });
      for (let tries = 0; sync.status === 200 && tries < 5; tries++) {
        await redis.fill();
        sync = await h.invoke('echo', { n: 100 });
      }
      expect(sync.status).toBe(503);
      expect(sync.body.error.code).toBe('unavailable');
      // Reads keep working.
      expect((await h.api('GET', '/v1/functions')).status).toBe(200);
      expect((await h.api('GET', `/v1/invocations/${accepted[0]}`)).status).toBe(200);

      // Redis stays full for a while: the job running meanwhile cannot record its end. It is not
      // failed for that (its record would say running for good), nor its successors.
      for (let i = 0; i < 3; i++) {
        await new Promise((r) => setTimeout(r, 400));
        await redis.fill();
      }

      // Room again: everything accepted before finishes, and new work is taken.
      await redis.makeRoom();
      await waitFor(async () => {
        const states = await Promise.all(accepted.map(async (id) => (await h.api('GET', `/v1/invocations/${id}`)).body?.status));
        return states.every((s) => s === 'succeeded');
      }, 30_000, 200);
      for (const id of accepted) expect((await h.api('GET', `/v1/invocations/${id}`)).body.attempts).toBeGreaterThanOrEqual(1);
      expect((await h.api('POST', '/v1/functions/echo/invocations', { n: 101 })).status).toBe(202);
    });

    it('an HTTP trigger request does not run ahead of its record once Redis is full: it gets 503', async () => {
      await h?.close();
      h = await startHearth({ env: { REDIS_URL: redis.url } });
      expect((await h.deploy('web', 'export default (e) => ({ got: e.path })')).status).toBe(201);
      expect((await fetch(`${h.url}/fn/web/x`)).status).toBe(200);
      await redis.fill();
      // Hearth reads Redis' memory every second: once it saw the fill, the request is not run in
      // its warm container here (its record would be written after the answer, and refused) but
      // takes the queue, which refuses it. No request runs and loses its record first.
      await new Promise((r) => setTimeout(r, 1500));
      const triggered = await fetch(`${h.url}/fn/web/x`);
      expect(triggered.status).toBe(503);
      expect((await triggered.json()).error.code).toBe('unavailable');
      // Room again: it is served again.
      await redis.makeRoom();
      await waitFor(async () => (await fetch(`${h.url}/fn/web/x`)).status === 200, 10_000, 100);
    });
  });
});
