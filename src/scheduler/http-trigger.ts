import { randomUUID } from 'node:crypto';
import { HearthError } from '../errors/index.ts';
import type { FunctionCatalog, FunctionRecord } from '../catalog/index.ts';
import type { Pool } from '../pool/index.ts';
import type { RecordWriter } from './record-writer.ts';
import { attemptEnded, attemptStarted, queuedRecord, type AttemptOutcome, type InvocationRecord } from './invocation-record.ts';
import type { InvocationError } from './invocation.ts';
import type { QueuedHttp } from './queued-http.ts';

/** Hop-by-hop headers (and a length that no longer holds once the body is re-streamed). */
const DROP_RESPONSE_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'upgrade', 'trailer']);
const DROP_REQUEST_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']);

export interface TriggerRequest {
  method: string;
  /** Path after `/fn/<name>`, starting with '/'. */
  path: string;
  /** Including the leading '?', or ''. */
  search: string;
  headers: [string, string][];
  body: Uint8Array | undefined;
}

export interface TriggerResponse {
  invocationId: string;
  coldStart: boolean;
  status: number;
  headers: [string, string][];
  body: ReadableStream<Uint8Array>;
}

/** Another node may run what this one cannot: the queued path, and when to take it. */
export interface TriggerOverflow {
  http: QueuedHttp;
  /** This node can run the function now: it has the image and room in its pool. */
  runsHere(fn: FunctionRecord): boolean;
}

/**
 * The HTTP trigger (`ANY /fn/:name/*`): runs the request in a warm container of this process's
 * pool and streams the function's response back as the agent produces it; the caller is connected
 * right here, so the stream needs no queue. The invocation still gets a record with its logs
 * (trigger `http`) once the body has ended. When this node cannot run it (no image, no room) and
 * `overflow` is given, the request goes through the queue to a node that can, buffered both ways.
 */
export class HttpTrigger {
  /**
   * `node`: this node's id, written into each record (the trigger runs where the request arrived).
   * `records`: writes each request's record, batched, after its body ended.
   */
  constructor(private readonly deps: { catalog: FunctionCatalog; pool: Pool; records?: RecordWriter; node?: string; overflow?: TriggerOverflow }) {}

  async handle(name: string, req: TriggerRequest): Promise<TriggerResponse> {
    const fn = await this.deps.catalog.get(name);
    if (!fn) throw new HearthError('not_found', `function ${name} does not exist`);
    const overflow = this.deps.overflow;
    if (overflow && !overflow.runsHere(fn)) return this.viaQueue(overflow.http, fn, req);
    const invocationId = randomUUID();
    const queuedAt = Date.now();
    const deadline = queuedAt + fn.config.timeoutMs;

    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({
      start: (c) => {
        controller = c;
      },
    });
    let coldStart = false;
    let resolveHead!: (head: { status: number; headers: [string, string][] } | undefined) => void;
    const head = new Promise<{ status: number; headers: [string, string][] } | undefined>((r) => (resolveHead = r));
    let headSeen = false;

    const run = this.deps.pool.runHttp(
      { name: fn.name, version: fn.version, digest: fn.digest, config: fn.config },
      { invocationId, event: null, deadline },
      {
        request: {
          method: req.method,
          url: requestUrl(req),
          headers: req.headers.filter(([k]) => !DROP_REQUEST_HEADERS.has(k.toLowerCase())),
        },
        ...(req.body ? { body: req.body } : {}),
        env: fn.config.env,
      },
      {
        onLease: (cold) => {
          coldStart = cold;
        },
        head: (status, headers) => {
          headSeen = true;
          resolveHead({ status, headers: headers.filter(([k]) => !DROP_RESPONSE_HEADERS.has(k.toLowerCase())) });
        },
        chunk: (data) => {
          try {
            controller.enqueue(new Uint8Array(data));
          } catch {
            // The client went away; the function finishes on its own (bounded by its deadline).
          }
        },
      },
    );

    void run.then((result) => {
      const outcome = result.outcome;
      try {
        if (outcome.ok) controller.close();
        else if (headSeen) controller.error(new Error(outcome.error.message));
      } catch {
        // Already cancelled by the client.
      }
      resolveHead(undefined);
      const finishedAt = Date.now();
      const record = httpRecord({ id: invocationId, fn, queuedAt, finishedAt, coldStart: result.coldStart, outcome, node: this.deps.node });
      this.deps.records?.write(record, outcome.logs);
    });

    const started = await head;
    if (!started) {
      const { outcome } = await run;
      const error: InvocationError = outcome.ok ? { code: 'internal', message: 'the function sent no response' } : outcome.error;
      throw new HearthError(error.code, error.message, { invocationId, coldStart });
    }
    return { invocationId, coldStart, status: started.status, headers: started.headers, body };
  }

  private async viaQueue(queued: QueuedHttp, fn: FunctionRecord, req: TriggerRequest): Promise<TriggerResponse> {
    const answer = await queued.call(fn, {
      method: req.method,
      url: requestUrl(req),
      headers: req.headers.filter(([k]) => !DROP_REQUEST_HEADERS.has(k.toLowerCase())),
      body: req.body,
    });
    const body = new ReadableStream<Uint8Array>({
      start: (c) => {
        if (answer.body.length > 0) c.enqueue(answer.body);
        c.close();
      },
    });
    const headers = answer.headers.filter(([k]) => !DROP_RESPONSE_HEADERS.has(k.toLowerCase()));
    return { invocationId: answer.invocationId, coldStart: answer.coldStart, status: answer.status, headers, body };
  }
}

/** The URL the function sees: the path after `/fn/<name>` on the host the caller used. */
function requestUrl(req: TriggerRequest): string {
  const host = req.headers.find(([k]) => k.toLowerCase() === 'host')?.[1] ?? 'localhost';
  return `http://${host}${req.path}${req.search}`;
}

/** An HTTP-triggered invocation runs once, straight from the request: its record is written when it ends. */
function httpRecord(run: {
  id: string;
  fn: { name: string; version: number };
  queuedAt: number;
  finishedAt: number;
  coldStart: boolean;
  outcome: Pick<AttemptOutcome, 'ok' | 'error' | 'durationMs'>;
  node: string | undefined;
}): InvocationRecord {
  const { fn, outcome } = run;
  const queued = queuedRecord({ id: run.id, function: fn.name, version: fn.version, trigger: 'http', maxAttempts: 1, queuedAt: run.queuedAt });
  const running = attemptStarted(queued, { attempt: 1, maxAttempts: 1, startedAt: run.finishedAt - outcome.durationMs, ...(run.node ? { node: run.node } : {}) });
  // The response body went to the client as a stream; the record keeps only the logs.
  return attemptEnded(running, Object.assign({}, outcome, { version: fn.version, coldStart: run.coldStart }), { final: true, keepResult: false, finishedAt: run.finishedAt });
}
