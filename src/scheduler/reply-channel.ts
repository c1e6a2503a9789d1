import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { InvocationResult } from './invocation.ts';

/**
 * Reply channels of this process, by name: a worker that ran a sync invocation for a caller in the
 * same process hands the result over directly instead of through Redis (saves a round trip and a
 * JSON encode/decode on the hot path; a single Hearth process is the common case).
 */
const local = new Map<string, ReplyChannel>();

interface Waiter {
  resolve: (result: InvocationResult | undefined) => void;
  timer: NodeJS.Timeout;
}

/**
 * Carries sync invocation results from whichever worker ran them back to the waiting gateway:
 * one pub/sub channel per process, one pending entry per invocation. Pub/sub is push (no polling)
 * and, unlike BullMQ's trimmed event stream, has no shared backlog a slow listener falls behind on;
 * a message lost anyway (connection drop) ends as a timeout, never a hang.
 */
export class ReplyChannel {
  readonly channel: string;
  private readonly waiters = new Map<string, Waiter>();
  /** No worker of this process will run anything more: waiting makes no sense any more. */
  stopped = false;

  constructor(private readonly subscriber: Redis, prefix = 'hearth') {
    this.channel = `${prefix}:reply:${randomUUID()}`;
  }

  async start(): Promise<void> {
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      this.deliver(JSON.parse(message) as InvocationResult);
    });
    await this.subscriber.subscribe(this.channel);
    local.set(this.channel, this);
  }

  /** Hands a result to its waiter; false when nobody here waits for it (any more). */
  deliver(result: InvocationResult): boolean {
    const waiter = this.waiters.get(result.invocationId);
    if (!waiter) return false;
    this.waiters.delete(result.invocationId);
    clearTimeout(waiter.timer);
    waiter.resolve(result);
    return true;
  }

  /** Register before enqueueing, so a fast reply cannot arrive first. Resolves undefined on timeout. */
  wait(invocationId: string, timeoutMs: number): Promise<InvocationResult | undefined> {
    if (this.stopped) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(invocationId);
        resolve(undefined);
      }, timeoutMs);
      this.waiters.set(invocationId, { resolve, timer });
    });
  }

  cancel(invocationId: string): void {
    const waiter = this.waiters.get(invocationId);
    if (!waiter) return;
    this.waiters.delete(invocationId);
    clearTimeout(waiter.timer);
    waiter.resolve(undefined);
  }

  /**
   * Ends every wait now (undefined, as a timeout would), for a stopping server whose workers have
   * finished: a caller whose job is still queued would otherwise hold its connection to the deadline.
   */
  stopWaiting(): void {
    this.stopped = true;
    for (const id of [...this.waiters.keys()]) this.cancel(id);
  }

  async close(): Promise<void> {
    if (local.get(this.channel) === this) local.delete(this.channel);
    for (const id of [...this.waiters.keys()]) this.cancel(id);
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
  }
}

export async function publishReply(redis: Redis, channel: string, result: InvocationResult): Promise<void> {
  const here = local.get(channel);
  if (here) {
    here.deliver(result);
    return;
  }
  await redis.publish(channel, JSON.stringify(result));
}
