import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { InvocationRecord } from './invocation-record.ts';

interface CallbackJob {
  url: string;
  record: InvocationRecord;
}

export interface CallbackOptions {
  /** First retry delay; doubled per attempt. */
  backoffMs?: number;
  /** Deliveries tried before giving up. */
  attempts?: number;
  /** Per request. */
  timeoutMs?: number;
  prefix?: string;
}

const QUEUE = 'callbacks';

/**
 * Delivers finished invocation records to their `callbackUrl`: a BullMQ queue of its own, so a
 * receiver that is down gets retried with exponential backoff, and pending deliveries survive a
 * restart of Hearth. Any non-2xx answer or network error counts as a failed delivery.
 */
export class CallbackDelivery {
  private readonly queue: Queue<CallbackJob>;
  private readonly worker: Worker<CallbackJob>;
  private readonly backoffMs: number;
  private readonly attempts: number;

  constructor(connection: Redis, opts: CallbackOptions = {}) {
    const prefix = opts.prefix ?? 'hearth';
    this.backoffMs = opts.backoffMs ?? 1000;
    this.attempts = opts.attempts ?? 10;
    const timeoutMs = opts.timeoutMs ?? 10_000;
    this.queue = new Queue<CallbackJob>(QUEUE, { connection, prefix, streams: { events: { maxLen: 100 } } });
    this.worker = new Worker<CallbackJob>(
      QUEUE,
      async function deliverCallback(job) {
        const res = await fetch(job.data.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-hearth-invocation-id': job.data.record.id },
          body: JSON.stringify(job.data.record),
          signal: AbortSignal.timeout(timeoutMs),
          redirect: 'manual',
        });
        // Drain the body so the socket can be reused.
        await res.arrayBuffer().catch(() => undefined);
        if (res.status < 200 || res.status > 299) throw new Error(`callback receiver answered ${res.status}`);
      },
      { connection, prefix, concurrency: 16 },
    );
    this.worker.on('error', () => undefined);
    // As for the worker: failures reach the caller of enqueue; without a listener BullMQ prints them in plain text.
    this.queue.on('error', () => undefined);
  }

  async enqueue(url: string, record: InvocationRecord): Promise<void> {
    await this.queue.add('deliver', { url, record }, {
      attempts: this.attempts,
      backoff: { type: 'exponential', delay: this.backoffMs },
      removeOnComplete: { age: 3600, count: 1000 },
      removeOnFail: { age: 24 * 3600, count: 1000 },
    });
  }

  async close(): Promise<void> {
    await this.worker.close();
    await this.queue.close();
  }
}
