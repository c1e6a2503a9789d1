import { randomUUID } from 'node:crypto';
import { HearthError } from '../errors/index.ts';
import type { FunctionCatalog } from '../catalog/index.ts';
import type { InvocationProducer } from './producer.ts';
import type { ReplyChannel } from './reply-channel.ts';
import type { InvocationResult } from './invocation.ts';
import { Backpressure } from './backpressure.ts';

/** Room for a cold start and a short queue wait on top of the function's own timeout. */
export const START_MARGIN_MS = 10_000;

export interface SyncInvokeOptions {
  version?: number;
}

/**
 * The caller's side of a synchronous invocation: enqueue, then wait for the reply — never longer
 * than the function's timeout plus START_MARGIN_MS, whatever happens to the worker or container.
 */
export class SyncInvoker {
  private readonly backpressure: Backpressure;

  constructor(
    private readonly deps: { catalog: FunctionCatalog; producer: InvocationProducer; replies: ReplyChannel; backpressure?: Backpressure },
  ) {
    this.backpressure = deps.backpressure ?? new Backpressure(deps.producer);
  }

  async invoke(name: string, event: unknown, opts: SyncInvokeOptions = {}): Promise<InvocationResult> {
    const fn = opts.version === undefined
      ? await this.deps.catalog.get(name)
      : await this.deps.catalog.getVersion(name, opts.version);
    if (!fn) {
      throw new HearthError('not_found', opts.version === undefined
        ? `function ${name} does not exist`
        : `version ${opts.version} of function ${name} does not exist`);
    }
    await this.backpressure.admit(name, fn.config.maxQueued);
    const invocationId = randomUUID();
    const enqueuedAt = Date.now();
    const waitMs = fn.config.timeoutMs + START_MARGIN_MS;
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
      });
    } catch (err) {
      this.deps.replies.cancel(invocationId);
      throw err;
    }
    const result = await reply;
    if (result) return result;
    await this.deps.producer.withdraw(name, invocationId).catch(() => undefined);
    throw Object.assign(new HearthError('timeout', `no answer from function ${name} within ${waitMs} ms`), { invocationId });
  }
}
