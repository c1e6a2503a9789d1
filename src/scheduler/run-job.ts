import { UnrecoverableError } from 'bullmq';
import type { DispatchLane } from './dispatch-lane.ts';
import type { HeldJobs } from './held-jobs.ts';
import type { InvocationBullJob } from './lane-worker.ts';
import type { InvocationResult } from './invocation.ts';
import { JobReturnedToQueue } from './return-to-queue.ts';

export interface RunJobDeps {
  held: HeldJobs;
  process: (job: InvocationBullJob) => Promise<InvocationResult>;
  lost: (job: InvocationBullJob, reason: string) => Promise<void>;
  onError: (message: string, err: Error) => void;
  /** The node is closing: finish this job, fetch no next one. */
  closing: () => boolean;
}

/**
 * Runs one job taken with `token` (its lock held and renewed meanwhile), then finishes it in
 * BullMQ and, in the same round trip, fetches the function's next job if the lane may take one.
 * Returns that next job.
 */
export async function runJob(deps: RunJobDeps, lane: DispatchLane, job: InvocationBullJob, token: string): Promise<InvocationBullJob | undefined> {
  const release = deps.held.hold(lane.fn, lane.worker, job, token);
  try {
    if (job.deferredFailure) {
      await deps.lost(job, job.deferredFailure).catch((err: Error) => deps.onError('recording a lost job failed', err));
      await lane.worker.fail(job, new UnrecoverableError(job.deferredFailure), token, false);
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
    if (failure) {
      const next = await lane.worker.fail(job, failure, token, fetchNext);
      // The retry waits in the delayed set: a fetch learns when it is due.
      lane.ready = true;
      return next;
    }
    return await lane.worker.complete(job, value!, token, fetchNext);
  } finally {
    release();
  }
}
