import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { queueNameFor, type InvocationJob } from './invocation.ts';
import { WorkSignal } from './work-signal.ts';

/** Finished jobs are kept briefly for inspection; results proper are the invocation record's job. */
const keepJobs = { removeOnComplete: { age: 3600, count: 1000 }, removeOnFail: { age: 24 * 3600, count: 5000 } };

/** A function's `retries`: extra attempts with exponential backoff from `backoffMs`. */
export interface Retries {
  attempts: number;
  backoffMs: number;
}

/** BullMQ options of an invocation's job: its id is the invocation's, retries become attempts and backoff. */
function jobOptions(job: InvocationJob, retries: Retries | undefined, keepFinished: boolean) {
  const retry = retries && retries.attempts > 0
    ? { attempts: retries.attempts + 1, backoff: { type: 'exponential', delay: retries.backoffMs } }
    : {};
  const keep = keepFinished ? keepJobs : { removeOnComplete: true, removeOnFail: true };
  return { jobId: job.invocationId, ...keep, ...retry };
}

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

  /**
   * Sets the function's queue up now (deploy, start), off any call's path: a BullMQ queue's first
   * command waits for its set-up (an INFO round trip and its scripts), which made a new function's
   * first call 1.8–8.8 ms slower here (0.3–0.6 ms for the same count once set up).
   */
  prepare(functionName: string): void {
    this.queue(functionName)
      .waitUntilReady()
      .catch(() => undefined);
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

  /**
   * `retries`: async and scheduled invocations. `keepFinished: false`: the job is removed once it
   * ended (its data is large, or private).
   */
  async enqueue(job: InvocationJob, retries?: Retries, o: { keepFinished?: boolean } = {}): Promise<void> {
    await this.queue(job.function).add('invoke', job, jobOptions(job, retries, o.keepFinished !== false));
    await this.workAdded(job.function);
  }

  /** Jobs of one function in one round trip (a MULTI: all are added or none), then one wake-up. */
  async enqueueMany(functionName: string, jobs: { job: InvocationJob; retries?: Retries }[]): Promise<void> {
    await this.queue(functionName).addBulk(jobs.map(({ job, retries }) => ({ name: 'invoke', data: job, opts: jobOptions(job, retries, true) })));
    await this.workAdded(functionName);
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
