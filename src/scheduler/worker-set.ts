import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { observeInvocation } from '../metrics/index.ts';
import { publishReply } from './reply-channel.ts';
import { queueNameFor, type InvocationExecutor, type InvocationJob, type InvocationResult } from './invocation.ts';

/**
 * One BullMQ Worker per deployed function, with concurrency equal to what the function can run at
 * once (maxContainers × concurrency): jobs beyond that stay in Redis, where they are counted and
 * survive a crash, instead of piling up in this process.
 */
export class InvocationWorkers {
  private readonly workers = new Map<string, Worker<InvocationJob, InvocationResult>>();

  constructor(
    private readonly connection: Redis,
    private readonly execute: InvocationExecutor,
    private readonly prefix = 'hearth',
  ) {}

  /** Starts the function's worker, or adjusts its concurrency if it runs already. */
  ensure(functionName: string, concurrency: number): void {
    const existing = this.workers.get(functionName);
    if (existing) {
      existing.concurrency = concurrency;
      return;
    }
    const worker = new Worker<InvocationJob, InvocationResult>(
      queueNameFor(functionName),
      (job) => this.process(job),
      { connection: this.connection, prefix: this.prefix, concurrency, autorun: true },
    );
    // Errors here are Redis hiccups; BullMQ reconnects by itself. Without a listener Node would crash.
    worker.on('error', () => undefined);
    this.workers.set(functionName, worker);
  }

  private async process(job: Job<InvocationJob, InvocationResult>): Promise<InvocationResult> {
    const data = job.data;
    const result = await this.execute(data);
    observeInvocation(result);
    if (data.replyTo) await publishReply(this.connection, data.replyTo, result);
    // The sync caller has its answer; the job keeps a copy without the (possibly large) payload.
    return { ...result, result: undefined, logs: [] };
  }

  async remove(functionName: string): Promise<void> {
    const worker = this.workers.get(functionName);
    this.workers.delete(functionName);
    await worker?.close();
  }

  /** Stops taking jobs and waits for the ones in flight. */
  async close(): Promise<void> {
    await Promise.all([...this.workers.values()].map((w) => w.close()));
    this.workers.clear();
  }
}
