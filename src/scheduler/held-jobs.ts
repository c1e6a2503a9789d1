import type { InvocationBullJob, LaneWorker } from './lane-worker.ts';

interface Held {
  fn: string;
  worker: LaneWorker;
  job: InvocationBullJob;
  token: string;
}

/**
 * The jobs this node runs, with the lock token each was taken with: their locks are renewed
 * together, one command per function, so a job outlives its first lock while its node lives.
 */
export class HeldJobs {
  private readonly held = new Map<string, Held>();

  hold(fn: string, worker: LaneWorker, job: InvocationBullJob, token: string): () => void {
    const key = `${fn}/${job.id}`;
    this.held.set(key, { fn, worker, job, token });
    return () => this.held.delete(key);
  }

  /** Extends every held lock to `lockMs` from now; returns the functions whose locks were lost, with the job ids. */
  async renew(lockMs: number): Promise<{ fn: string; jobIds: string[] }[]> {
    const byFn = new Map<string, Held[]>();
    for (const h of this.held.values()) byFn.set(h.fn, [...(byFn.get(h.fn) ?? []), h]);
    const lost: { fn: string; jobIds: string[] }[] = [];
    for (const [fn, held] of byFn) {
      const failed = await held[0]!.worker.extendJobLocks(held.map((h) => h.job.id!), held.map((h) => h.token), lockMs);
      // A job that finished while its lock was being extended gave the lock up itself: not lost.
      const stillHeld = failed.filter((id) => this.held.has(`${fn}/${id}`));
      if (stillHeld.length > 0) lost.push({ fn, jobIds: stillHeld });
    }
    return lost;
  }
}
