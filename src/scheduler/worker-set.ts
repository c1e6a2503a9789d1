import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { observeInvocation } from '../metrics/index.ts';
import { publishReply } from './reply-channel.ts';
import { queueNameFor, type InvocationExecutor, type InvocationJob, type InvocationResult } from './invocation.ts';
import { isFinished, type InvocationRecord, type InvocationStore, type InvocationTrigger } from './invocation-store.ts';
import type { CallbackDelivery } from './callbacks.ts';

export interface WorkerSetOptions {
  /** Invocation records (status, result, logs); without it only sync replies are produced. */
  store?: InvocationStore;
  callbacks?: CallbackDelivery;
  /** BullMQ lockDuration and stalledInterval: how soon a job of a dead worker runs again. */
  lockMs?: number;
  prefix?: string;
}

/** Errors that a retry cannot fix. */
const FINAL_CODES = new Set(['not_found', 'invalid_request']);

/** The invocation id of a job: given by the producer, or derived per tick for a schedule's jobs. */
export function invocationIdOf(job: Pick<Job<InvocationJob>, 'data' | 'id' | 'opts' | 'timestamp'>): string {
  if (job.data.invocationId) return job.data.invocationId;
  const tick = (job.opts as { prevMillis?: number }).prevMillis ?? job.timestamp;
  // '.' appears in neither function names nor schedule ids, so this is unambiguous.
  return `sched.${job.data.function}.${job.data.scheduleId ?? 'unknown'}.${tick}`;
}

const iso = (ms: number): string => new Date(ms).toISOString();

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
      (job) => this.process(job),
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

  private async process(job: Job<InvocationJob, InvocationResult>): Promise<InvocationResult> {
    const store = this.opts.store;
    const trigger: InvocationTrigger = job.data.trigger ?? (job.data.replyTo ? 'sync' : 'async');
    const data: InvocationJob = {
      ...job.data,
      invocationId: invocationIdOf(job),
      enqueuedAt: job.data.enqueuedAt ?? (job.opts as { prevMillis?: number }).prevMillis ?? job.timestamp,
    };
    const attempt = Math.max(1, job.attemptsStarted || job.attemptsMade + 1);
    const maxAttempts = Math.max(1, job.opts.attempts ?? 1);
    const startedAt = Date.now();

    let record: InvocationRecord | undefined;
    if (store && trigger !== 'sync') {
      const existing = await store.get(data.invocationId);
      record = existing ?? {
        id: data.invocationId,
        function: data.function,
        version: data.version ?? null,
        status: 'queued',
        trigger,
        attempts: 0,
        maxAttempts,
        queuedAt: iso(data.enqueuedAt),
        ...(data.scheduleId ? { scheduleId: data.scheduleId } : {}),
      };
      // A record already finished (a duplicate delivery after a crash): do not run it twice.
      if (isFinished(record)) return this.stripped(record);
      record = { ...record, status: 'running', attempts: attempt, maxAttempts, startedAt: iso(startedAt) };
      delete record.error;
      // A schedule's run has no record yet: it starts here, with its event (a dead letter can be retried).
      if (existing) await store.put(record);
      else await store.create(record, data.event);
    }

    const result = await this.execute(data);
    observeInvocation(result);
    if (data.replyTo) await publishReply(this.connection, data.replyTo, result);

    const final = result.ok || trigger === 'sync' || attempt >= maxAttempts || FINAL_CODES.has(result.error?.code ?? '');
    if (store) {
      const finishedAt = Date.now();
      const base: InvocationRecord = record ?? {
        id: data.invocationId,
        function: data.function,
        version: result.version,
        status: 'running',
        trigger,
        attempts: attempt,
        maxAttempts,
        queuedAt: iso(data.enqueuedAt),
        startedAt: iso(data.enqueuedAt + result.queuedMs),
      };
      const keepResult = trigger !== 'sync' || data.keepResult === true;
      const next: InvocationRecord = {
        ...base,
        version: result.version,
        status: result.ok ? 'succeeded' : final ? 'failed' : 'queued',
        coldStart: result.coldStart,
        durationMs: Math.round(result.durationMs),
        ...(result.ok && keepResult ? { result: result.result ?? null } : {}),
        ...(result.ok ? {} : { error: result.error ?? { code: 'internal', message: 'invocation failed' } }),
        ...(final ? { finishedAt: iso(finishedAt) } : {}),
        ...(final && !result.ok && trigger !== 'sync' ? { deadLetter: true } : {}),
      };
      if (trigger === 'sync') {
        // The caller has its answer already: keep the record write off the job slot (throughput).
        void store.put(next, result.logs).catch(() => undefined);
      } else {
        await store.put(next, result.logs);
        if (final && next.callbackUrl) await this.opts.callbacks?.enqueue(next.callbackUrl, next);
      }
    }
    if (!final) {
      // BullMQ schedules the retry (exponential backoff from the job's options).
      throw new Error(`attempt ${attempt} of ${maxAttempts} failed: ${result.error?.message ?? 'unknown error'}`);
    }
    // The sync caller has its answer; the job keeps a copy without the (possibly large) payload.
    return { ...result, result: undefined, logs: [] };
  }

  private stripped(record: InvocationRecord): InvocationResult {
    return {
      invocationId: record.id,
      function: record.function,
      version: record.version,
      ok: record.status === 'succeeded',
      coldStart: record.coldStart ?? false,
      containerId: null,
      queuedMs: 0,
      durationMs: record.durationMs ?? 0,
      logs: [],
    };
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
    const record = await store.update(invocationIdOf(job), (r) =>
      isFinished(r)
        ? undefined
        : {
            ...r,
            status: 'failed',
            error: { code: 'internal', message: `the worker running this invocation was lost (${reason})` },
            finishedAt: iso(Date.now()),
            deadLetter: r.trigger !== 'sync',
          },
    );
    if (record?.callbackUrl) await this.opts.callbacks?.enqueue(record.callbackUrl, record);
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
