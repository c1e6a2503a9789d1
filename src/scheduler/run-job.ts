import { setTimeout as sleep } from 'node:timers/promises';
import { UnrecoverableError } from 'bullmq';
import type { Redis } from 'ioredis';
import { isRedisFull } from '../errors/index.ts';
import type { DispatchLane } from './dispatch-lane.ts';
import type { HeldJobs } from './held-jobs.ts';
import type { InvocationBullJob } from './lane-worker.ts';
import type { InvocationResult } from './invocation.ts';
import { JobReturnedToQueue, returnToQueue } from './return-to-queue.ts';

/** How soon a move of a job that Redis refused for being full (maxmemory) is tried again. */
const FULL_RETRY_MS = 500;

export interface RunJobDeps {
  /** The node's command connection (a job given back is moved through it). */
  connection: Redis;
  held: HeldJobs;
  process: (job: InvocationBullJob) => Promise<InvocationResult>;
  lost: (job: InvocationBullJob, reason: string) => Promise<void>;
  /** A job went back to its function's queue: every node should look at that queue again. */
  returned: (fn: string) => void;
  onError: (message: string, err: Error) => void;
  /** The node is closing: finish this job, fetch no next one. */
  closing: () => boolean;
}

/**
 * Runs one job taken with `token` (its lock held and renewed meanwhile), then finishes it in
 * BullMQ and, in the same round trip, fetches the function's next job if the lane may take one.
 * Returns that next job.
 *
 * Redis at maxmemory refuses writes, not reads: a delivery whose record it refused is not the
 * function's failure (failing it would spend an attempt, or end the invocation with its record
 * left queued or running for good), so the job goes back to its queue; a finish it refused is
 * tried again. Either waits, the job held, until Redis takes writes again.
 */
export async function runJob(deps: RunJobDeps, lane: DispatchLane, job: InvocationBullJob, token: string): Promise<InvocationBullJob | undefined> {
  const release = deps.held.hold(lane.fn, lane.worker, job, token);
  const whenTaken = <T>(write: () => Promise<T>) => whenRedisTakes(deps, write);
  try {
    if (job.deferredFailure) {
      await deps.lost(job, job.deferredFailure).catch((err: Error) => deps.onError('recording a lost job failed', err));
      await whenTaken(() => lane.worker.fail(job, new UnrecoverableError(job.deferredFailure), token, false));
      return undefined;
    }
    let value: InvocationResult | undefined;
    let failure: Error | undefined;
    try {
      value = await deps.process(job);
    } catch (err) {
      failure = err as Error;
    }
    // The container just used is idle now: the next job of the function goes to it.
    const fetchNext = lane.ready && !lane.removed && !deps.closing() && lane.inFlight <= lane.limit;
    // A stop gave it back (returnToQueue): it is waiting again, not ours to finish.
    if (failure instanceof JobReturnedToQueue) return undefined;
    if (failure && isRedisFull(failure)) {
      // Its record may say running: the next delivery runs it again (at least once).
      deps.onError(`Redis is full: job ${job.id} of ${lane.fn} goes back to its queue once Redis takes writes`, failure);
      await whenTaken(() => returnToQueue(deps.connection, job, token));
      deps.returned(lane.fn);
      return undefined;
    }
    if (failure) {
      const next = await whenTaken(() => lane.worker.fail(job, failure, token, fetchNext));
      // The retry waits in the delayed set: a fetch learns when it is due.
      lane.ready = true;
      return next;
    }
    return await whenTaken(() => lane.worker.complete(job, value!, token, fetchNext));
  } finally {
    release();
  }
}

/**
 * `write`, tried again every FULL_RETRY_MS while Redis refuses it for being full. Not while the
 * node closes: then the job is left active, its lock runs out and the stalled check returns it.
 */
async function whenRedisTakes<T>(deps: RunJobDeps, write: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await write();
    } catch (err) {
      if (!isRedisFull(err) || deps.closing()) throw err;
      await sleep(FULL_RETRY_MS);
    }
  }
}
