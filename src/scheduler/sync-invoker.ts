import { randomUUID } from 'node:crypto';
import { HearthError } from '../errors/index.ts';
import type { FunctionCatalog } from '../catalog/index.ts';
import type { InvocationProducer } from './producer.ts';
import type { ReplyChannel } from './reply-channel.ts';
import type { InvocationResult } from './invocation.ts';
import type { InvocationStore } from './invocation-store.ts';
import { isFinished, recordToResult } from './invocation-record.ts';
import { Backpressure } from './backpressure.ts';
import { resolveFunction } from './resolve-function.ts';
import type { DirectDispatch } from './direct-dispatch.ts';
import { syncDispatchTotal } from '../metrics/index.ts';

/** Room for a cold start and a short queue wait on top of the function's own timeout. */
export const START_MARGIN_MS = 10_000;

export interface SyncInvokeOptions {
  version?: number;
  /** Same key within 24 h: the earlier invocation's answer, without running again. */
  idempotencyKey?: string;
}

/** How often a resubmission with a known Idempotency-Key looks whether the first run finished. */
const IDEMPOTENT_POLL_MS = 50;

/**
 * The caller's side of a synchronous invocation. With `direct` and a free warm slot here while
 * nothing of the function waits in its queue, the call runs at once in that container; otherwise
 * it is enqueued and the caller waits for the reply — never longer than the function's timeout
 * plus START_MARGIN_MS, whatever happens to the worker or container.
 */
export class SyncInvoker {
  private readonly backpressure: Backpressure;

  constructor(
    private readonly deps: {
      catalog: FunctionCatalog;
      producer: InvocationProducer;
      replies: ReplyChannel;
      store?: InvocationStore;
      backpressure?: Backpressure;
      direct?: DirectDispatch;
    },
  ) {
    this.backpressure = deps.backpressure ?? new Backpressure(deps.producer);
  }

  async invoke(name: string, event: unknown, opts: SyncInvokeOptions = {}): Promise<InvocationResult> {
    const fn = await resolveFunction(this.deps.catalog, name, opts.version);
    await this.backpressure.admit(name, fn.config.maxQueued, { mayRunDirect: this.deps.direct !== undefined });
    const invocationId = randomUUID();
    const enqueuedAt = Date.now();
    const waitMs = fn.config.timeoutMs + START_MARGIN_MS;
    const store = this.deps.store;
    const key = store ? opts.idempotencyKey : undefined;
    if (store && key !== undefined) {
      const existing = await store.claimIdempotencyKey(name, key, invocationId);
      if (existing !== undefined) return this.awaitRecord(store, name, existing, waitMs);
    }
    // Skipping the queue must not overtake what waits there; opts.version pins a version the same way.
    const direct = this.deps.direct && this.backpressure.queueSeenEmpty(name)
      ? this.deps.direct.tryRun(fn, { invocationId, event, keepResult: key !== undefined })
      : undefined;
    if (direct) return direct;
    const leftQueue = this.deps.direct ? this.backpressure.queued(name) : () => undefined;
    syncDispatchTotal.inc({ function: name, path: 'queued' });
    const reply = this.deps.replies.wait(invocationId, waitMs);
    try {
      await this.deps.producer.enqueue({
        invocationId,
        function: name,
        ...(opts.version === undefined ? {} : { version: opts.version }),
        event,
        enqueuedAt,
        callerDeadline: enqueuedAt + waitMs,
        replyTo: this.deps.replies.channel,
        ...(key !== undefined ? { keepResult: true } : {}),
      });
    } catch (err) {
      leftQueue();
      this.deps.replies.cancel(invocationId);
      if (store && key !== undefined) await store.releaseIdempotencyKey(name, key).catch(() => undefined);
      throw err;
    }
    const result = await reply;
    leftQueue();
    if (result) return result;
    await this.deps.producer.withdraw(name, invocationId).catch(() => undefined);
    if (this.deps.replies.stopped) throw new HearthError('unavailable', 'Hearth is stopping; the invocation did not run here, call again', { invocationId, retryAfterSeconds: 1 });
    throw noAnswer(name, waitMs, invocationId);
  }

  /** The answer of an earlier invocation with the same Idempotency-Key, once it has one (bounded wait). */
  private async awaitRecord(store: InvocationStore, name: string, id: string, waitMs: number): Promise<InvocationResult> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const record = await store.get(id);
      if (record && isFinished(record)) return recordToResult(record);
      if (Date.now() >= deadline) throw noAnswer(name, waitMs, id);
      await new Promise((r) => setTimeout(r, IDEMPOTENT_POLL_MS));
    }
  }
}

/** 504 `timeout` for a caller that waited its full time; the invocation may still finish and be looked up. */
function noAnswer(name: string, waitMs: number, invocationId: string): HearthError {
  return new HearthError('timeout', `no answer from function ${name} within ${waitMs} ms`, { invocationId });
}
