import { randomUUID } from 'node:crypto';
import { HearthError } from '../errors/index.ts';
import type { FunctionCatalog } from '../catalog/index.ts';
import type { InvocationProducer } from './producer.ts';
import type { InvocationStore } from './invocation-store.ts';
import { deadLetterRetried, queuedRecord } from './invocation-record.ts';
import { Backpressure } from './backpressure.ts';
import { SubmissionBatch } from './submission-batch.ts';
import { resolveFunction } from './resolve-function.ts';

export interface AsyncInvokeOptions {
  version?: number;
  idempotencyKey?: string;
  callbackUrl?: string;
  /** The dead letter this submission re-runs. */
  retryOf?: string;
}

export interface Accepted {
  id: string;
  /** True when an Idempotency-Key matched an earlier submission (nothing new was queued). */
  existing: boolean;
}

/**
 * `POST /v1/functions/:name/invocations`: writes the record (status queued) before queueing the
 * job, so the id the caller gets back is always known; the function's `retries` become the job's
 * attempts and exponential backoff. Submissions of the same moment share their writes
 * (SubmissionBatch).
 */
export class AsyncInvoker {
  private readonly backpressure: Backpressure;
  private readonly submissions: SubmissionBatch;

  constructor(
    private readonly deps: {
      catalog: FunctionCatalog; producer: InvocationProducer; store: InvocationStore; backpressure?: Backpressure;
      /** Resolves once Redis replicas hold what was written (HEARTH_REDIS_WAIT_REPLICAS); throws `unavailable` if they do not. */
      replicated?: (invocationId: string) => Promise<void>;
    },
  ) {
    this.backpressure = deps.backpressure ?? new Backpressure(deps.producer);
    this.submissions = new SubmissionBatch(deps.store, deps.producer);
  }

  async submit(name: string, event: unknown, opts: AsyncInvokeOptions = {}): Promise<Accepted> {
    const fn = await resolveFunction(this.deps.catalog, name, opts.version);
    // Before the idempotency claim: a refused submission must not leave a key pointing at nothing.
    await this.backpressure.admit(name, fn.config.maxQueued);
    const id = randomUUID();
    if (opts.idempotencyKey !== undefined) {
      const existing = await this.deps.store.claimIdempotencyKey(name, opts.idempotencyKey, id);
      if (existing !== undefined) return { id: existing, existing: true };
    }
    const enqueuedAt = Date.now();
    const record = queuedRecord({
      id,
      function: name,
      version: opts.version ?? null,
      trigger: 'async',
      maxAttempts: fn.config.retries.attempts + 1,
      queuedAt: enqueuedAt,
      ...(opts.callbackUrl ? { callbackUrl: opts.callbackUrl } : {}),
      ...(opts.retryOf ? { retryOf: opts.retryOf } : {}),
    });
    const job = { invocationId: id, function: name, ...(opts.version === undefined ? {} : { version: opts.version }), event, enqueuedAt, trigger: 'async' as const };
    try {
      // With the other submissions of this moment: the record and the job, or an error and neither.
      await this.submissions.submit({ record, event, job, retries: fn.config.retries });
    } catch (err) {
      if (opts.idempotencyKey !== undefined) await this.deps.store.releaseIdempotencyKey(name, opts.idempotencyKey).catch(() => undefined);
      throw err;
    }
    // After the catch: the job exists even when the replicas do not confirm it, so its key stays.
    await this.deps.replicated?.(id);
    return { id, existing: false };
  }

  /** `POST /v1/invocations/:id/retry`: runs a dead letter again as a new invocation. */
  async retry(id: string): Promise<Accepted> {
    const record = await this.deps.store.get(id);
    if (!record) throw new HearthError('not_found', `invocation ${id} does not exist`);
    if (!record.deadLetter) {
      throw new HearthError('invalid_request', `invocation ${id} is not a dead letter (status ${record.status})`);
    }
    const event = await this.deps.store.getEvent(id);
    const accepted = await this.submit(record.function, event ?? null, {
      ...(record.callbackUrl ? { callbackUrl: record.callbackUrl } : {}),
      retryOf: id,
    });
    await this.deps.store.put(deadLetterRetried(record, accepted.id));
    return accepted;
  }
}
