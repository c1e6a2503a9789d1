import { Queue, Worker } from 'bullmq';
import { ManagedRedis, createRedis } from '../../src/redis/index.ts';
import type { Owners } from '../owners.ts';

export interface BullmqFloor {
  jobs: number;
  /** From the first add until the worker completed the last job, ms. */
  totalMs: number;
  perSecond: number;
}

const PRODUCERS = 64;
const WORKER_CONCURRENCY = 8;

/**
 * Raw BullMQ, async: `jobs` added by 64 concurrent producers, one worker with concurrency 8 running
 * no-ops, time until all completed. On a Redis configured as Hearth's own managed one (same
 * class), in a directory of the bench's, so its persistence settings are the floor's too
 * (appendfsync always, as Hearth's default, unless `fsync` says otherwise).
 */
export async function measureBullmqFloor(owners: Owners, o: { workDir: string; jobs: number; fsync?: 'always' | 'everysec' }): Promise<BullmqFloor> {
  const redis = new ManagedRedis(o.workDir, { fsync: o.fsync ?? 'always' });
  const stopRedis = owners.add('floor redis', () => redis.close());
  await redis.start();
  const connection = createRedis(redis.url);
  const workerConnection = createRedis(redis.url);
  const queue = new Queue('floor', { connection });
  // The round in progress: how many completions end it, and what to call then.
  let round = { target: 0, completed: 0, done: () => {}, failed: (_err: Error) => {} };
  const nextRound = (target: number) =>
    new Promise<void>((resolve, reject) => {
      round = { target, completed: 0, done: resolve, failed: reject };
      setTimeout(() => reject(new Error(`raw BullMQ: ${round.completed}/${target} jobs completed after 120 s`)), 120_000).unref();
    });
  const worker = new Worker('floor', async () => null, { connection: workerConnection, concurrency: WORKER_CONCURRENCY });
  worker.on('completed', () => {
    if (++round.completed === round.target) round.done();
  });
  worker.on('failed', (_job, err) => round.failed(err));
  try {
    await worker.waitUntilReady();
    // Warm-up: connections open, Lua scripts loaded, as in a Hearth that has served before.
    const warmup = Math.min(64, o.jobs);
    await runProducers(queue, warmup, nextRound(warmup));
    const done = nextRound(o.jobs);
    const start = performance.now();
    await runProducers(queue, o.jobs, done);
    const totalMs = performance.now() - start;
    return { jobs: o.jobs, totalMs, perSecond: o.jobs / (totalMs / 1000) };
  } finally {
    await worker.close();
    await queue.close();
    await connection.quit().catch(() => connection.disconnect());
    await workerConnection.quit().catch(() => workerConnection.disconnect());
    await stopRedis();
  }
}

async function runProducers(queue: Queue, jobs: number, done: Promise<void>): Promise<void> {
  // Observed now: a failure while producers still add must not count as an unhandled rejection.
  done.catch(() => undefined);
  let added = 0;
  await Promise.all(
    Array.from({ length: PRODUCERS }, async () => {
      while (added < jobs) {
        added++;
        await queue.add('noop', {}, { removeOnComplete: true, removeOnFail: true });
      }
    }),
  );
  await done;
}
