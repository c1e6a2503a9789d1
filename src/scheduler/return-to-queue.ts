import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';

/**
 * Puts a job this process had started back at the head of its queue, as if it had never been
 * taken: used when a stop signal's grace period ran out and the attempt's container was removed,
 * and when Redis refused the attempt's record for being full. BullMQ counts a start in the job
 * hash (`ats`) when it hands a job out; that start is taken back after the move (a move Redis
 * refuses is tried again, and must not take it back twice).
 */
export async function returnToQueue(redis: Redis, job: Job, token: string): Promise<void> {
  await job.moveToWait(token);
  // Lost only if Redis fills up between the two: BullMQ's count of starts is then one high, which Hearth does not read.
  await redis.hincrby(`${job.queueQualifiedName}:${job.id}`, 'ats', -1).catch(() => undefined);
}

/** Thrown by a job's processing once the job went back to the queue: the dispatcher neither completes nor fails it. */
export class JobReturnedToQueue extends Error {
  constructor(jobId: string) {
    super(`job ${jobId} went back to its queue`);
    this.name = 'JobReturnedToQueue';
  }
}
