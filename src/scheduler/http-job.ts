import type { Pool, PoolFunction, RunResult } from '../pool/index.ts';
import type { InvokeRequest } from '../runtime/index.ts';

/** An HTTP-trigger request as a queued job carries it: the whole body, base64 (JSON-safe). */
export interface QueuedHttpRequest {
  method: string;
  /** Absolute URL as the function sees it (path after `/fn/<name>`, query as sent). */
  url: string;
  headers: [string, string][];
  /** Base64; absent for a request without a body. */
  body?: string;
}

/** The function's response as it travels back through the reply channel: buffered whole, base64. */
export interface QueuedHttpResponse {
  status: number;
  headers: [string, string][];
  body: string;
}

/**
 * The largest response body that travels back through the queue's reply channel. The receiving
 * node answers the caller only once the whole response arrived: what streams on the direct path
 * is buffered here, and a body past this cap fails the invocation instead of filling Redis.
 */
export const QUEUED_RESPONSE_CAP_BYTES = 6 * 1024 * 1024;

export function encodeBody(body: Uint8Array | undefined): string | undefined {
  return body && body.length > 0 ? Buffer.from(body).toString('base64') : undefined;
}

export function decodeBody(body: string | undefined): Uint8Array | undefined {
  return body === undefined ? undefined : new Uint8Array(Buffer.from(body, 'base64'));
}

/** Whether a job result is a queued HTTP response (and not some other value). */
export function isQueuedHttpResponse(value: unknown): value is QueuedHttpResponse {
  const v = value as QueuedHttpResponse | null;
  return typeof v === 'object' && v !== null && typeof v.status === 'number' && Array.isArray(v.headers) && typeof v.body === 'string';
}

/**
 * Runs a queued HTTP request in this node's pool, collecting the streamed response; the run's
 * result is the whole response (status, headers, base64 body).
 */
export async function runQueuedHttp(pool: Pool, fn: PoolFunction, req: InvokeRequest, http: QueuedHttpRequest): Promise<RunResult> {
  let head: { status: number; headers: [string, string][] } | undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  const body = decodeBody(http.body);
  const run = await pool.runHttp(
    fn,
    req,
    { request: { method: http.method, url: http.url, headers: http.headers }, ...(body ? { body } : {}), env: fn.config.env },
    {
      head: (status, headers) => {
        head = { status, headers };
      },
      chunk: (data) => {
        size += data.length;
        if (size > QUEUED_RESPONSE_CAP_BYTES) tooLarge = true;
        else chunks.push(Buffer.from(data));
      },
    },
  );
  const { outcome } = run;
  if (!outcome.ok) return run;
  if (tooLarge || !head) {
    const message = tooLarge
      ? `the response is larger than ${QUEUED_RESPONSE_CAP_BYTES} bytes, the most a response run on another node can carry`
      : 'the function sent no response';
    return { ...run, outcome: { ok: false, error: { code: 'internal', message }, logs: outcome.logs, durationMs: outcome.durationMs } };
  }
  const response: QueuedHttpResponse = { status: head.status, headers: head.headers, body: Buffer.concat(chunks).toString('base64') };
  return { ...run, outcome: { ...outcome, result: response } };
}
