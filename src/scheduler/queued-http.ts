import { randomUUID } from 'node:crypto';
import { HearthError } from '../errors/index.ts';
import type { FunctionRecord } from '../catalog/index.ts';
import type { InvocationProducer } from './producer.ts';
import type { ReplyChannel } from './reply-channel.ts';
import type { Backpressure } from './backpressure.ts';
import { START_MARGIN_MS } from './sync-invoker.ts';
import { decodeBody, encodeBody, isQueuedHttpResponse } from './http-job.ts';

/** What a queued HTTP request is, before it is a job. */
export interface QueuedHttpCall {
  method: string;
  url: string;
  headers: [string, string][];
  body: Uint8Array | undefined;
}

/** The answer, buffered: the whole body arrived before the caller sees the status. */
export interface QueuedHttpAnswer {
  invocationId: string;
  coldStart: boolean;
  status: number;
  headers: [string, string][];
  body: Uint8Array;
}

/**
 * An HTTP-trigger request that this node cannot run itself (it cannot get the image, or its
 * containers of the function are all busy) goes through the function's queue like a sync call:
 * the request travels as a job, any node that can run it takes it, and the buffered response
 * comes back through this node's reply channel. Streaming is lost on this path; the body caps
 * (request and response) keep a job within reason.
 */
export class QueuedHttp {
  constructor(private readonly deps: { producer: InvocationProducer; replies: ReplyChannel; backpressure?: Backpressure }) {}

  async call(fn: FunctionRecord, req: QueuedHttpCall): Promise<QueuedHttpAnswer> {
    await this.deps.backpressure?.admit(fn.name, fn.config.maxQueued);
    const invocationId = randomUUID();
    const enqueuedAt = Date.now();
    const waitMs = fn.config.timeoutMs + START_MARGIN_MS;
    const reply = this.deps.replies.wait(invocationId, waitMs);
    const body = encodeBody(req.body);
    try {
      await this.deps.producer.enqueue(
        {
          invocationId,
          function: fn.name,
          event: null,
          enqueuedAt,
          callerDeadline: enqueuedAt + waitMs,
          replyTo: this.deps.replies.channel,
          trigger: 'http',
          http: { method: req.method, url: req.url, headers: req.headers, ...(body ? { body } : {}) },
        },
        undefined,
        // The job holds the request body: gone once it ran, not kept for inspection.
        { keepFinished: false },
      );
    } catch (err) {
      this.deps.replies.cancel(invocationId);
      throw err;
    }
    const result = await reply;
    if (!result) {
      await this.deps.producer.withdraw(fn.name, invocationId).catch(() => undefined);
      throw new HearthError('timeout', `no answer from function ${fn.name} within ${waitMs} ms`, { invocationId });
    }
    if (!result.ok || !isQueuedHttpResponse(result.result)) {
      const error = result.error ?? { code: 'internal' as const, message: 'the function sent no response' };
      throw new HearthError(error.code, error.message, { invocationId, coldStart: result.coldStart });
    }
    const res = result.result;
    return { invocationId, coldStart: result.coldStart, status: res.status, headers: res.headers, body: decodeBody(res.body) ?? new Uint8Array() };
  }
}
