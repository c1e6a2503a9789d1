import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { queueNameFor, type InvocationJob } from './invocation.ts';

/** Finished jobs are kept briefly for inspection; results proper are the invocation record's job. */
const keepJobs = { removeOnComplete: { age: 3600, count: 1000 }, removeOnFail: { age: 24 * 3600, count: 5000 } };

/**
 * The gateway side of the queues: one BullMQ queue per function, so a function that saturates its
 * containers only lengthens its own queue (no head-of-line blocking of other functions).
 */
export class InvocationProducer {
  private readonly queues = new Map<string, Queue<InvocationJob>>();

  constructor(private readonly connection: Redis, private readonly prefix = 'hearth') {}

  queue(functionName: string): Queue<InvocationJob> {
    let queue = this.queues.get(functionName);
    if (!queue) {
      queue = new Queue<InvocationJob>(queueNameFor(functionName), {
        connection: this.connection,
        prefix: this.prefix,
        // The events stream keeps return values; results travel by reply channel, so keep it short.
        streams: { events: { maxLen: 1000 } },
      });
      // Connection errors (Redis restarting or gone) surface on the calls that fail; without a
      // listener BullMQ prints each one as a plain-text stack trace.
      queue.on('error', () => undefined);
      this.queues.set(functionName, queue);
    }
    return queue;
  }

  /** `retries` (async and scheduled invocations): extra attempts with exponential backoff from `backoffMs`. */
  async enqueue(job: InvocationJob, retries?: { attempts: number; backoffMs: number }): Promise<void> {
    const retry = retries && retries.attempts > 0
      ? { attempts: retries.attempts + 1, backoff: { type: 'exponential', delay: retries.backoffMs } }
      : {};
    await this.queue(job.function).add('invoke', job, { jobId: job.invocationId, ...keepJobs, ...retry });
  }

  /** Drops a job nobody waits for any more, if no worker has taken it yet. */
  async withdraw(functionName: string, invocationId: string): Promise<void> {
    const job = await this.queue(functionName).getJob(invocationId);
    if (job && (await job.isWaiting())) await job.remove().catch(() => undefined);
  }

  /** Removes a deleted function's queue and everything in it. */
  async obliterate(functionName: string): Promise<void> {
    await this.queue(functionName).obliterate({ force: true });
    await this.queues.get(functionName)?.close();
    this.queues.delete(functionName);
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}
