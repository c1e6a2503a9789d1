import type { Redis } from 'ioredis';
import { observeInvocation } from '../metrics/index.ts';
import { RepeatFilter, rootLogger } from '../log/index.ts';
import { publishReply } from './reply-channel.ts';
import { Dispatcher } from './dispatcher.ts';
import type { InvocationBullJob } from './lane-worker.ts';
import { NO_WARMTH, type Warmth } from './warmth.ts';
import { WorkSignal } from './work-signal.ts';
import type { InvocationExecutor, InvocationResult } from './invocation.ts';
import type { InvocationStore } from './invocation-store.ts';
import type { RecordWriter } from './record-writer.ts';
import {
  attemptEnded,
  attemptInterrupted,
  attemptStarted,
  queuedRecord,
  recordToResult,
  workerLost,
  type InvocationRecord,
} from './invocation-record.ts';
import { deliveryOf, invocationIdOf, keepsResult, repliesToCaller, type Delivery } from './job-delivery.ts';
import { isLastAttempt } from './retry-decision.ts';
import type { CallbackDelivery } from './callbacks.ts';
import { JobReturnedToQueue, returnToQueue } from './return-to-queue.ts';

export interface WorkerSetOptions {
  /** Invocation records (status, result, logs); without it only sync replies are produced. */
  store?: InvocationStore;
  /** Batches the records of ended attempts (group commit); without it each is written on its own. */
  records?: RecordWriter;
  callbacks?: CallbackDelivery;
  /** BullMQ lockDuration (stalled checks every quarter of it): how soon a job of a dead worker runs again. */
  lockMs?: number;
  prefix?: string;
  /** The node's subscriber connection (wake-ups arrive there); without it one is duplicated and owned. */
  subscriber?: Redis;
  /** This node's name, kept on the records of the attempts it runs. */
  node?: string;
  /** HEARTH_COLD_START_DELAY_MS: how long a node without a warm container leaves a new job to one with. */
  coldStartDelayMs?: number;
  /** The pool's warm containers per function. */
  warmth?: () => Warmth;
}

const DEFAULT_LOCK_MS = 10_000;
const DEFAULT_COLD_START_DELAY_MS = 25;

/** How recording an attempt's start went: a finished record means this delivery is a duplicate. */
type RecordedStart = { duplicateOf: InvocationRecord } | { running: InvocationRecord | undefined };

/** The job keeps a copy of the result without the (possibly large) payload: the caller and the record have it. */
function jobReturnValue(result: InvocationResult): InvocationResult {
  return Object.assign({}, result, { result: undefined, logs: [] });
}

/** A sync run's record begins only once it ended: its queue and start times come from the result. */
function syncRunStarted(delivery: Delivery, result: InvocationResult, node: string | undefined): InvocationRecord {
  const { job, trigger, attempt, maxAttempts, redeliveries } = delivery;
  const queued = queuedRecord({ id: job.invocationId, function: job.function, version: result.version, trigger, maxAttempts, queuedAt: job.enqueuedAt });
  return attemptStarted(queued, { attempt, maxAttempts, startedAt: job.enqueuedAt + result.queuedMs, redeliveries, ...(node ? { node } : {}) });
}

/**
 * Runs the node's share of every function's queued invocations: one dispatcher for the whole node
 * pulls jobs (see Dispatcher), at most maxContainers × concurrency of a function at once on this
 * node; jobs beyond that stay in Redis, where they are counted and survive a crash, instead of
 * piling up in this process.
 *
 * Each job's invocation record follows it: running when a node takes it, succeeded or failed when
 * it ends. A failed attempt with attempts left is thrown back to BullMQ, which retries it with
 * exponential backoff; the last failure makes the record a dead letter. A job whose node died
 * stalls, and BullMQ's stalled check hands it to another node within 1.25 × `lockMs`; that
 * redelivery is counted on the record, not as an attempt.
 */
export class InvocationWorkers {
  private readonly dispatcher: Dispatcher;
  private readonly ownSubscriber: Redis | undefined;
  private readonly started: Promise<void>;
  /** Set when a stop ran out of time: attempts still running go back to the queue instead of being recorded. */
  private abandoning = false;

  constructor(
    private readonly connection: Redis,
    private readonly execute: InvocationExecutor,
    private readonly opts: WorkerSetOptions = {},
  ) {
    const prefix = opts.prefix ?? 'hearth';
    this.ownSubscriber = opts.subscriber ? undefined : connection.duplicate();
    this.ownSubscriber?.on('error', () => undefined);
    const log = rootLogger();
    const repeats = new RepeatFilter((message, fields) => log.warn(fields, message));
    this.dispatcher = new Dispatcher({
      connection,
      subscriber: opts.subscriber ?? this.ownSubscriber!,
      prefix,
      node: opts.node ?? 'local',
      lockMs: opts.lockMs ?? DEFAULT_LOCK_MS,
      coldStartDelayMs: opts.coldStartDelayMs ?? DEFAULT_COLD_START_DELAY_MS,
      warmth: opts.warmth ?? (() => NO_WARMTH),
      process: (job) => this.process(job),
      lost: (job, reason) => this.onLost(job, reason),
      // A fault repeats every fetch, check or tick while it lasts (Redis full: every lane, every second).
      onError: (message, err) => repeats.warn(message, { component: 'dispatch', err: err.message }),
    });
    this.started = this.dispatcher.start();
    // A failed subscribe shows in the log; the due-index sweep still finds the work.
    this.started.catch((err: Error) => log.warn({ component: 'dispatch', err: err.message }, 'subscribing to wake-ups failed'));
  }
  /** Another live node has warm containers of the function: a first call here should queue for it. */
  warmElsewhere(fn: string): boolean {
    return this.dispatcher.warmElsewhere(fn);
  }

  /** No other node is known to live (see WarmDirectory.alone). */
  alone(): boolean {
    return this.dispatcher.alone();
  }

  /** A container started outside the queue: other nodes learn at once that it is warm here. */
  warmthChanged(): void {
    this.dispatcher.warmthChanged();
  }


  /** Resolves once wake-ups are heard (work is found by the sweep before that). */
  async ready(): Promise<void> {
    await this.started;
  }

  /** Serves the function's queue here, or adjusts how many of its jobs run at once. */
  ensure(functionName: string, concurrency: number): void {
    this.dispatcher.ensure(functionName, concurrency);
  }

  /** One delivery of a job: record the start, run, reply, record the end, then finish or ask for a retry. */
  private async process(job: InvocationBullJob): Promise<InvocationResult> {
    const delivery = deliveryOf(job);
    const start = await this.recordStart(delivery);
    // Delivered again after it finished (a crash between the end and the acknowledgement): do not run it twice.
    if ('duplicateOf' in start) return jobReturnValue(recordToResult(start.duplicateOf));
    const result = await this.execute(delivery.job);
    if (this.abandoning) return this.giveBack(job, start.running);
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
    if (!store || repliesToCaller(delivery)) return { running: undefined };
    const { job, trigger, attempt, maxAttempts, redeliveries } = delivery;
    const start = { attempt, maxAttempts, startedAt: Date.now(), redeliveries, ...this.nodeField() };
    const existing = await store.startAttempt(job.invocationId, start);
    if (existing && 'finished' in existing) return { duplicateOf: existing.finished };
    if (existing) return existing;
    // A schedule's run has no record yet: it starts here, with its event (a dead letter can be retried).
    const queued = queuedRecord({
      id: job.invocationId,
      function: job.function,
      version: job.version ?? null,
      trigger,
      maxAttempts,
      queuedAt: job.enqueuedAt,
      ...(job.scheduleId ? { scheduleId: job.scheduleId } : {}),
    });
    const running = attemptStarted(queued, start);
    await store.create(running, job.event);
    return { running };
  }

  private async replyToCaller(delivery: Delivery, result: InvocationResult): Promise<void> {
    if (delivery.job.replyTo) await publishReply(this.connection, delivery.job.replyTo, result);
  }

  private async recordEnd(delivery: Delivery, running: InvocationRecord | undefined, result: InvocationResult, last: boolean): Promise<void> {
    const store = this.opts.store;
    if (!store) return;
    const started = running ?? syncRunStarted(delivery, result, this.opts.node);
    const record = attemptEnded(started, result, { final: last, keepResult: keepsResult(delivery), finishedAt: Date.now() });
    const records = this.opts.records;
    if (repliesToCaller(delivery)) {
      // The caller has its answer already: keep the record write off the job slot (throughput).
      if (records) records.write(record, result.logs);
      else void store.put(record, result.logs).catch(() => undefined);
      return;
    }
    // In Redis before the job is acknowledged.
    if (records) await records.writeDurable(record, result.logs);
    else await store.put(record, result.logs);
    if (last) await this.notifyCallback(record);
  }

  private async notifyCallback(record: InvocationRecord): Promise<void> {
    if (record.callbackUrl) await this.opts.callbacks?.enqueue(record.callbackUrl, record);
  }

  private nodeField(): { node?: string } {
    return this.opts.node ? { node: this.opts.node } : {};
  }

  /**
   * The job was lost with its node more often than BullMQ allows ("job stalled more than
   * allowable limit"): it fails without running again, and its record would otherwise say
   * running forever.
   */
  private async onLost(job: InvocationBullJob, reason: string): Promise<void> {
    const store = this.opts.store;
    if (!store) return;
    const record = await store.update(invocationIdOf(job), (r) => workerLost(r, reason, Date.now()));
    if (record) await this.notifyCallback(record);
  }

  /**
   * The attempt was cut short by a stop (its container removed under it): its outcome says
   * nothing about the function. The job goes back to the queue for the next node, the record back
   * to queued, and the dispatcher is told the job moved (JobReturnedToQueue) rather than failed.
   */
  private async giveBack(job: InvocationBullJob, running: InvocationRecord | undefined): Promise<never> {
    if (running) await this.opts.store?.put(attemptInterrupted(running)).catch(() => undefined);
    if (job.token) await returnToQueue(this.connection, job, job.token);
    throw new JobReturnedToQueue(job.id ?? '');
  }

  /** From now on, attempts that end go back to the queue (see giveBack); call before removing their containers. */
  abandonInFlight(): void {
    this.abandoning = true;
  }

  /** Stops serving the function here; waits for its invocations running here. */
  async remove(functionName: string): Promise<void> {
    await this.dispatcher.remove(functionName);
    await new WorkSignal(this.connection, this.opts.prefix ?? 'hearth').forget(functionName).catch(() => undefined);
  }

  /** Stops taking jobs and waits for the ones in flight. */
  async close(): Promise<void> {
    await this.dispatcher.close();
    if (this.ownSubscriber) await this.ownSubscriber.quit().catch(() => this.ownSubscriber?.disconnect());
  }
}
