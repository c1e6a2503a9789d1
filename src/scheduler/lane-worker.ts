import { Worker, createRedisBackend, type Job, type JobJson } from 'bullmq';
import type { Redis } from 'ioredis';
import type { InvocationJob, InvocationResult } from './invocation.ts';

export type InvocationBullJob = Job<InvocationJob, InvocationResult>;

/** A fetch from a function's queue: the job taken, if any, and when its first delayed job is due (0: none). */
export interface Taken {
  job: InvocationBullJob | undefined;
  nextDelayedAt: number;
}

export interface LaneWorkerOptions {
  prefix: string;
  /** Lock duration of a taken job; the stalled check runs every quarter of it (see stalledCheckMs). */
  lockMs: number;
}

/**
 * How often the stalled check runs for a lock of `lockMs`: a lost job's lock expires at most
 * lockMs after the crash, and the next check after that returns it, so it runs again within
 * 1.25 × lockMs (12.5 s for the default 10 s).
 */
export function stalledCheckMs(lockMs: number): number {
  return Math.max(1, Math.floor(lockMs / 4));
}

/** [jobData, jobId, rateLimitDelay, delayUntil] as BullMQ's move scripts return them. */
type NextJobData = [JobJson | null | undefined, string | undefined, number | undefined, number | undefined];

/**
 * BullMQ's Worker used for manual job processing only: no processor, never run, and no
 * connection of its own. A plain Worker duplicates a blocking connection in its constructor (one
 * per function, hundreds per node); this one is built on a backend over the node's shared
 * connection, so a function's lane costs no connection at all. It keeps what the Worker does on
 * a fetch that plain scripts would not: the next tick of a Job Scheduler is planned when a tick
 * is taken, and stalled checks and lock extension use the Worker's own scripts and options.
 */
export class LaneWorker extends Worker<InvocationJob, InvocationResult> {
  constructor(queueName: string, connection: Redis, opts: LaneWorkerOptions) {
    super(
      queueName,
      undefined,
      {
        connection,
        prefix: opts.prefix,
        autorun: false,
        lockDuration: opts.lockMs,
        // BullMQ skips a check while the previous one's marker (kept this long) lives: a bit under
        // the check period, or a timer tick that comes a few ms early skips every other check.
        stalledInterval: Math.max(1, Math.floor(stalledCheckMs(opts.lockMs) * 0.9)),
        skipVersionCheck: true,
      },
      // Neither `blocking` nor `withBlockingConnection`: the shared connection is used as it is.
      (name, o) => createRedisBackend(name, o),
    );
  }

  /** Takes the next waiting job, if any (never blocks). */
  async take(token: string): Promise<Taken> {
    const [data, id, , delayUntil] = (await this.getBackend().moveToActive(token, this.opts.name)) as NextJobData;
    return { job: await this.toJob(data, id, token), nextDelayedAt: Number(delayUntil ?? 0) };
  }

  /** Marks the job done; with `fetchNext`, takes the next waiting job in the same round trip. */
  async complete(job: InvocationBullJob, value: InvocationResult, token: string, fetchNext: boolean): Promise<InvocationBullJob | undefined> {
    const next = await job.moveToCompleted(value, token, fetchNext);
    return Array.isArray(next) ? this.toJob(next[0], next[1], token) : undefined;
  }

  /** Fails the attempt: BullMQ retries it after its backoff if attempts are left (an UnrecoverableError never). */
  async fail(job: InvocationBullJob, err: Error, token: string, fetchNext: boolean): Promise<InvocationBullJob | undefined> {
    const next = await job.moveToFailed(err, token, fetchNext);
    return Array.isArray(next) ? this.toJob(next[0], next[1], token) : undefined;
  }

  private async toJob(data: JobJson | null | undefined, id: string | undefined, token: string): Promise<InvocationBullJob | undefined> {
    if (!data || !id) return undefined;
    return this.nextJobFromJobData(data, id, token);
  }
}
