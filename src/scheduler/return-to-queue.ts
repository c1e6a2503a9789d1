import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';

/**
 * Puts a job this process had started back at the head of its queue, as if it had never been
 * taken: used when a stop signal's grace period ran out and the attempt's container was removed.
 * BullMQ counts a start in the job hash (`ats`) when it hands a job out; that start is taken back
 * so the next node's run is the same attempt, not one more against the function's retry budget.
 */
export async function returnToQueue(redis: Redis, job: Job, token: string): Promise<void> {
  const jobKey = `${job.queueQualifiedName}:${job.id}`;
  await redis.hincrby(jobKey, 'ats', -1);
  await job.moveToWait(token);
}

/** Thrown by a job's processing once the job went back to the queue: the dispatcher neither completes nor fails it. */
export class JobReturnedToQueue extends Error {
  constructor(jobId: string) {
    super(`job ${jobId} went back to its queue`);
    this.name = 'JobReturnedToQueue';
  }
}
