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
  private readonly known = new Map<string, { count: number; at: number; since: number }>();

  constructor(private readonly producer: InvocationProducer) {}

  async admit(functionName: string, maxQueued: number): Promise<void> {
    const now = Date.now();
    const entry = this.known.get(functionName);
    if (entry && now - entry.at < FRESH_MS && entry.count + entry.since < maxQueued / 2) {
      entry.since++;
      return;
    }
    const count = await this.producer.queue(functionName).count();
    this.known.set(functionName, { count, at: now, since: 1 });
    if (count >= maxQueued) throw overloadedError(functionName, count, maxQueued);
  }

  /** Forget a removed function's numbers. */
  forget(functionName: string): void {
    this.known.delete(functionName);
  }
}
