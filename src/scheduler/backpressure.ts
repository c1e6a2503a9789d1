import { HearthError } from '../errors/index.ts';
import type { InvocationProducer } from './producer.ts';

/** How stale a queue length may be while the queue is far from full. */
const FRESH_MS = 250;
/** What a refused caller is told to wait; the queue drains at the function's own pace. */
const RETRY_AFTER_S = 1;

/** 429 `overloaded`, carrying the Retry-After the gateway sends. */
export function overloadedError(functionName: string, queued: number, maxQueued: number): HearthError {
  return new HearthError(
    'overloaded',
    `function ${functionName} has ${queued} invocations queued (maxQueued ${maxQueued}); retry later`,
    { retryAfterSeconds: RETRY_AFTER_S },
  );
}

/** The last count of a function's queue, and what this process admitted and queued since. */
export interface QueueEstimate {
  count: number;
  /** Epoch ms of the count. */
  at: number;
  /** Admissions since the count (queued or run directly). */
  since: number;
  /** Of those, the ones that went to the queue. */
  queuedSince: number;
}

/**
 * A sync call may skip the queue only if that does not overtake anything waiting there: the
 * count must be fresh, zero, and nothing queued from this process since. Other processes'
 * submissions show up at the next count, at most FRESH_MS later.
 */
export function queueSeenEmpty(estimate: QueueEstimate | undefined, now: number): boolean {
  return estimate !== undefined && now - estimate.at < FRESH_MS && estimate.count === 0 && estimate.queuedSince === 0;
}

/**
 * Admission control per function queue: a new invocation is refused while the function's queue
 * (waiting, delayed, prioritized, paused jobs: not the running ones) holds `maxQueued` or more.
 * It only ever refuses new work: nothing already accepted is dropped.
 *
 * Counting costs a Redis round trip, so while the queue is far from full (below half of
 * maxQueued, counting this process's own enqueues since) a count up to FRESH_MS old is used;
 * near the limit every admission counts exactly.
 *
 * @example
 * const backpressure = new Backpressure(producer);
 * await backpressure.admit(name, fn.config.maxQueued); // throws HearthError('overloaded')
 * await producer.enqueue(job);
 */
export class Backpressure {
  private readonly known = new Map<string, QueueEstimate>();

  constructor(private readonly producer: InvocationProducer) {}

  /**
   * Admits one invocation or throws 429. It is counted as queued unless `mayRunDirect`: then the
   * caller reports `queued()` only if it does end up in the queue.
   */
  async admit(functionName: string, maxQueued: number, opts: { mayRunDirect?: boolean } = {}): Promise<void> {
    const now = Date.now();
    const queuedNow = opts.mayRunDirect ? 0 : 1;
    const entry = this.known.get(functionName);
    if (entry && now - entry.at < FRESH_MS && entry.count + entry.since < maxQueued / 2) {
      entry.since++;
      entry.queuedSince += queuedNow;
      return;
    }
    const count = await this.producer.queue(functionName).count();
    this.known.set(functionName, { count, at: now, since: 1, queuedSince: queuedNow });
    if (count >= maxQueued) throw overloadedError(functionName, count, maxQueued);
  }

  /**
   * An invocation admitted with `mayRunDirect` went to the queue after all. Call the returned
   * function once it left the queue (its reply came): it no longer waits there. A newer count
   * replaces what this one added, so leaving then changes nothing.
   */
  queued(functionName: string): () => void {
    const entry = this.known.get(functionName);
    if (!entry) return () => undefined;
    entry.queuedSince++;
    let left = false;
    return () => {
      if (left || this.known.get(functionName) !== entry) return;
      left = true;
      entry.queuedSince--;
    };
  }

  /** Whether the function's queue held nothing when last counted (within FRESH_MS) and nothing was queued from here since. */
  queueSeenEmpty(functionName: string, now = Date.now()): boolean {
    return queueSeenEmpty(this.known.get(functionName), now);
  }

  /** Forget a removed function's numbers. */
  forget(functionName: string): void {
    this.known.delete(functionName);
  }
}
