import type { Job } from 'bullmq';
import type { InvocationJob, InvocationTrigger } from './invocation.ts';

/** The parts of a BullMQ job a worker reads to know what it runs. */
export type DeliveredJob = Pick<Job<InvocationJob>, 'data' | 'id' | 'opts' | 'timestamp' | 'attemptsStarted' | 'attemptsMade'> & Partial<Pick<Job<InvocationJob>, 'stalledCounter'>>;

/** One delivery of a job to a worker: the invocation it runs, how it was started, which attempt this is. */
export interface Delivery {
  /** The job's data with its invocation id and enqueue time filled in (a schedule's tick has neither). */
  job: InvocationJob;
  trigger: InvocationTrigger;
  /** 1-based: retries after a failure count, a redelivery after a lost worker does not (the attempt never ended). */
  attempt: number;
  maxAttempts: number;
  /** How often the job went back to the queue because the node running it was lost. */
  redeliveries: number;
}

/** When a schedule's tick was due; BullMQ keeps it on the job it produced. */
function tickOf(job: Pick<DeliveredJob, 'opts' | 'timestamp'>): number {
  return (job.opts as { prevMillis?: number }).prevMillis ?? job.timestamp;
}

/** The invocation id of a job: given by the producer, or derived per tick for a schedule's jobs. */
export function invocationIdOf(job: Pick<DeliveredJob, 'data' | 'id' | 'opts' | 'timestamp'>): string {
  if (job.data.invocationId) return job.data.invocationId;
  // '.' appears in neither function names nor schedule ids, so this is unambiguous.
  return `sched.${job.data.function}.${job.data.scheduleId ?? 'unknown'}.${tickOf(job)}`;
}

export function deliveryOf(job: DeliveredJob): Delivery {
  return {
    job: Object.assign({}, job.data, { invocationId: invocationIdOf(job), enqueuedAt: job.data.enqueuedAt ?? tickOf(job) }),
    trigger: job.data.trigger ?? (job.data.replyTo ? 'sync' : 'async'),
    // BullMQ's attemptsStarted counts redeliveries too; attemptsMade counts the attempts that ended.
    attempt: Math.max(1, job.attemptsMade + 1),
    maxAttempts: Math.max(1, job.opts.attempts ?? 1),
    redeliveries: job.stalledCounter ?? 0,
  };
}

/**
 * A caller waits for the reply (a sync call, or an HTTP request run on another node): the record
 * begins only once the run ended, and the result travels in the reply, not in the record.
 */
export function repliesToCaller(delivery: Delivery): boolean {
  return delivery.trigger === 'sync' || (delivery.trigger === 'http' && delivery.job.replyTo !== undefined);
}

/** Sync results travel in the reply; their record keeps one only for a resubmission with the same Idempotency-Key. */
export function keepsResult(delivery: Delivery): boolean {
  return !repliesToCaller(delivery) || delivery.job.keepResult === true;
}
