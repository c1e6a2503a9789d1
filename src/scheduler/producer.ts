import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { queueNameFor, type InvocationJob } from './invocation.ts';
import { WorkSignal } from './work-signal.ts';

/** Finished jobs are kept briefly for inspection; results proper are the invocation record's job. */
const keepJobs = { removeOnComplete: { age: 3600, count: 1000 }, removeOnFail: { age: 24 * 3600, count: 5000 } };

/**
 * The gateway side of the queues: one BullMQ queue per function, so a function that saturates its
 * containers only lengthens its own queue (no head-of-line blocking of other functions).
 */
export class InvocationProducer {
  private readonly queues = new Map<string, Queue<InvocationJob>>();
  private readonly signal: WorkSignal;

  constructor(private readonly connection: Redis, private readonly prefix = 'hearth') {
    this.signal = new WorkSignal(connection, prefix);
  }

  queue(functionName: string): Queue<InvocationJob> {
    let queue = this.queues.get(functionName);
    if (!queue) {
      queue = new Queue<InvocationJob>(queueNameFor(functionName), {
        connection: this.connection,
        prefix: this.prefix,
        // The events stream keeps return values; results travel by reply channel, so keep it short.
        streams: { events: { maxLen: 1000 } },
      });
      // The shared connection's own handler logs an outage once; a listener here keeps BullMQ from
      // printing the same error every reconnect for every queue.
      queue.on('error', () => undefined);
      this.queues.set(functionName, queue);
    }
    return queue;
  }

  /** `retries` (async and scheduled invocations): extra attempts with exponential backoff from `backoffMs`. */
  /** `keepFinished: false`: the job is removed once it ended (its data is large, or private). */
  async enqueue(job: InvocationJob, retries?: { attempts: number; backoffMs: number }, o: { keepFinished?: boolean } = {}): Promise<void> {
    const retry = retries && retries.attempts > 0
      ? { attempts: retries.attempts + 1, backoff: { type: 'exponential', delay: retries.backoffMs } }
      : {};
    const keep = o.keepFinished === false ? { removeOnComplete: true, removeOnFail: true } : keepJobs;
    await this.queue(job.function).add('invoke', job, { jobId: job.invocationId, ...keep, ...retry });
    await this.workAdded(job.function);
  }

  /** Tells every node's dispatcher that the function's queue has new work (a job, or a schedule's next tick). */
  workAdded(functionName: string): Promise<void> {
    return this.signal.workAdded(functionName);
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
