import { randomUUID } from 'node:crypto';
import { HearthError } from '../errors/index.ts';
import type { FunctionCatalog } from '../catalog/index.ts';
import type { Pool } from '../pool/index.ts';
import type { InvocationStore } from './invocation-store.ts';

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

/**
 * The HTTP trigger (`ANY /fn/:name/*`): runs the request in a warm container of this process's
 * pool and streams the function's response back as the agent produces it. It does not go through
 * the queue: a byte stream cannot travel as a job result, and the caller is connected right here.
 * The invocation still gets a record with its logs (trigger `http`) once the body has ended.
 */
export class HttpTrigger {
  constructor(private readonly deps: { catalog: FunctionCatalog; pool: Pool; store?: InvocationStore }) {}

  async handle(name: string, req: TriggerRequest): Promise<TriggerResponse> {
    const fn = await this.deps.catalog.get(name);
    if (!fn) throw new HearthError('not_found', `function ${name} does not exist`);
    const invocationId = randomUUID();
    const queuedAt = Date.now();
    const deadline = queuedAt + fn.config.timeoutMs;
    const host = req.headers.find(([k]) => k.toLowerCase() === 'host')?.[1] ?? 'localhost';

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
          url: `http://${host}${req.path}${req.search}`,
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

    void run.then(async (result) => {
      const outcome = result.outcome;
      try {
        if (outcome.ok) controller.close();
        else if (headSeen) controller.error(new Error(outcome.error.message));
      } catch {
        // Already cancelled by the client.
      }
      resolveHead(undefined);
      const finishedAt = Date.now();
      await this.deps.store
        ?.put(
          {
            id: invocationId,
            function: fn.name,
            version: fn.version,
            status: outcome.ok ? 'succeeded' : 'failed',
            trigger: 'http',
            ...(outcome.ok ? {} : { error: outcome.error }),
            attempts: 1,
            maxAttempts: 1,
            queuedAt: new Date(queuedAt).toISOString(),
            startedAt: new Date(finishedAt - outcome.durationMs).toISOString(),
            finishedAt: new Date(finishedAt).toISOString(),
            durationMs: Math.round(outcome.durationMs),
            coldStart: result.coldStart,
          },
          outcome.logs,
        )
        .catch(() => undefined);
    });

    const started = await head;
    if (!started) {
      const { outcome } = await run;
      const error = outcome.ok ? { code: 'internal' as const, message: 'the function sent no response' } : outcome.error;
      throw Object.assign(new HearthError(error.code, error.message), { invocationId, coldStart });
    }
    return { invocationId, coldStart, status: started.status, headers: started.headers, body };
  }
}
