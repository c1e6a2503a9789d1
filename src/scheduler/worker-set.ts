import { WaitingError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { observeInvocation } from '../metrics/index.ts';
import { publishReply } from './reply-channel.ts';
import { queueNameFor, type InvocationExecutor, type InvocationJob, type InvocationResult } from './invocation.ts';
import type { InvocationStore } from './invocation-store.ts';
import {
  attemptEnded,
  attemptInterrupted,
  attemptStarted,
  isFinished,
  queuedRecord,
  recordToResult,
  workerLost,
  type InvocationRecord,
} from './invocation-record.ts';
import { deliveryOf, invocationIdOf, keepsResult, type Delivery } from './job-delivery.ts';
import { isLastAttempt } from './retry-decision.ts';
import type { CallbackDelivery } from './callbacks.ts';
import { returnToQueue } from './return-to-queue.ts';

export interface WorkerSetOptions {
  /** Invocation records (status, result, logs); without it only sync replies are produced. */
  store?: InvocationStore;
  callbacks?: CallbackDelivery;
  /** BullMQ lockDuration and stalledInterval: how soon a job of a dead worker runs again. */
  lockMs?: number;
  prefix?: string;
}

/** How recording an attempt's start went: a finished record means this delivery is a duplicate. */
type RecordedStart = { duplicateOf: InvocationRecord } | { running: InvocationRecord | undefined };

/** The job keeps a copy of the result without the (possibly large) payload: the caller and the record have it. */
function jobReturnValue(result: InvocationResult): InvocationResult {
  return { ...result, result: undefined, logs: [] };
}

/** A sync run's record begins only once it ended: its queue and start times come from the result. */
function syncRunStarted(delivery: Delivery, result: InvocationResult): InvocationRecord {
  const { job, trigger, attempt, maxAttempts } = delivery;
  const queued = queuedRecord({ id: job.invocationId, function: job.function, version: result.version, trigger, maxAttempts, queuedAt: job.enqueuedAt });
  return attemptStarted(queued, { attempt, maxAttempts, startedAt: job.enqueuedAt + result.queuedMs });
}

/**
 * One BullMQ Worker per deployed function, with concurrency equal to what the function can run at
 * once (maxContainers × concurrency): jobs beyond that stay in Redis, where they are counted and
 * survive a crash, instead of piling up in this process.
 *
 * Each job's invocation record follows it: running when a worker takes it, succeeded or failed
 * when it ends. A failed attempt with attempts left is thrown back to BullMQ, which retries it
 * with exponential backoff; the last failure makes the record a dead letter. A job whose worker
 * died stalls, and BullMQ hands it to another worker after `lockMs`.
 */
export class InvocationWorkers {
  private readonly workers = new Map<string, Worker<InvocationJob, InvocationResult>>();
  private readonly prefix: string;
  /** Set when a stop ran out of time: attempts still running go back to the queue instead of being recorded. */
  private abandoning = false;

  constructor(
    private readonly connection: Redis,
    private readonly execute: InvocationExecutor,
    private readonly opts: WorkerSetOptions = {},
  ) {
    this.prefix = opts.prefix ?? 'hearth';
  }

  /** Starts the function's worker, or adjusts its concurrency if it runs already. */
  ensure(functionName: string, concurrency: number): void {
    const existing = this.workers.get(functionName);
    if (existing) {
      existing.concurrency = concurrency;
      return;
    }
    const lock = this.opts.lockMs ? { lockDuration: this.opts.lockMs, stalledInterval: this.opts.lockMs } : {};
    const worker = new Worker<InvocationJob, InvocationResult>(
      queueNameFor(functionName),
      (job, token) => this.process(job, token),
      { connection: this.connection, prefix: this.prefix, concurrency, autorun: true, ...lock },
    );
    // Errors here are Redis hiccups; BullMQ reconnects by itself. Without a listener Node would crash.
    worker.on('error', () => undefined);
    // A job that stalled more often than allowed is failed by BullMQ without running our code.
    worker.on('failed', (job) => {
      if (job) void this.onFailed(job).catch(() => undefined);
    });
    this.workers.set(functionName, worker);
  }

  /** One delivery of a job: record the start, run, reply, record the end, then finish or ask for a retry. */
  private async process(job: Job<InvocationJob, InvocationResult>, token?: string): Promise<InvocationResult> {
    const delivery = deliveryOf(job);
    const start = await this.recordStart(delivery);
    // Delivered again after it finished (a crash between the end and the acknowledgement): do not run it twice.
    if ('duplicateOf' in start) return jobReturnValue(recordToResult(start.duplicateOf));
    const result = await this.execute(delivery.job);
    if (this.abandoning && token !== undefined) await this.giveBack(job, token, start.running);
    observeInvocation(result);
    await this.replyToCaller(delivery, result);
    const last = isLastAttempt(result, delivery);
    await this.recordEnd(delivery, start.running, result, last);
    // BullMQ schedules the retry (exponential backoff from the job's options).
    if (!last) throw new Error(`attempt ${delivery.attempt} of ${delivery.maxAttempts} failed: ${result.error?.message ?? 'unknown error'}`);
    return jobReturnValue(result);
  }

  /**
   * Marks the record running before the function runs, so its status is right while it does. A
   * sync invocation gets its record only at the end (its caller waits on the reply, not on it).
   */
  private async recordStart(delivery: Delivery): Promise<RecordedStart> {
    const store = this.opts.store;
    if (!store || delivery.trigger === 'sync') return { running: undefined };
    const { job, trigger, attempt, maxAttempts } = delivery;
    const existing = await store.get(job.invocationId);
    if (existing && isFinished(existing)) return { duplicateOf: existing };
    const queued = existing ?? queuedRecord({
      id: job.invocationId,
      function: job.function,
      version: job.version ?? null,
      trigger,
      maxAttempts,
      queuedAt: job.enqueuedAt,
      ...(job.scheduleId ? { scheduleId: job.scheduleId } : {}),
    });
    const running = attemptStarted(queued, { attempt, maxAttempts, startedAt: Date.now() });
    // A schedule's run has no record yet: it starts here, with its event (a dead letter can be retried).
    if (existing) await store.put(running);
    else await store.create(running, job.event);
    return { running };
  }

  private async replyToCaller(delivery: Delivery, result: InvocationResult): Promise<void> {
    if (delivery.job.replyTo) await publishReply(this.connection, delivery.job.replyTo, result);
  }

  private async recordEnd(delivery: Delivery, running: InvocationRecord | undefined, result: InvocationResult, last: boolean): Promise<void> {
    const store = this.opts.store;
    if (!store) return;
    const started = running ?? syncRunStarted(delivery, result);
    const record = attemptEnded(started, result, { final: last, keepResult: keepsResult(delivery), finishedAt: Date.now() });
    if (delivery.trigger === 'sync') {
      // The caller has its answer already: keep the record write off the job slot (throughput).
      void store.put(record, result.logs).catch(() => undefined);
      return;
    }
    await store.put(record, result.logs);
    if (last) await this.notifyCallback(record);
  }

  private async notifyCallback(record: InvocationRecord): Promise<void> {
    if (record.callbackUrl) await this.opts.callbacks?.enqueue(record.callbackUrl, record);
  }

  /**
   * Our processor never lets a job fail for good (the last attempt returns), so a job BullMQ failed
   * anyway was lost with its worker too often ("job stalled more than allowable limit"): its record
   * would otherwise say running forever.
   */
  private async onFailed(job: Job<InvocationJob, InvocationResult>): Promise<void> {
    const store = this.opts.store;
    if (!store || (await job.getState()) !== 'failed') return;
    const reason = job.failedReason || 'the job failed';
    const record = await store.update(invocationIdOf(job), (r) => workerLost(r, reason, Date.now()));
    if (record) await this.notifyCallback(record);
  }

  /**
   * The attempt was cut short by a stop (its container removed under it): its outcome says
   * nothing about the function. The job goes back to the queue for the next Hearth, the record
   * back to queued, and BullMQ is told the job moved (WaitingError) rather than failed.
   */
  private async giveBack(job: Job<InvocationJob, InvocationResult>, token: string, running: InvocationRecord | undefined): Promise<never> {
    if (running) await this.opts.store?.put(attemptInterrupted(running)).catch(() => undefined);
    await returnToQueue(this.connection, job, token);
    throw new WaitingError();
  }

  /** From now on, attempts that end go back to the queue (see giveBack); call before removing their containers. */
  abandonInFlight(): void {
    this.abandoning = true;
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
