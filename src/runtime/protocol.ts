/**
 * Messages on the agent channel (fd 3), one JSON object per line.
 * Every message has a `type` so new invocation kinds (e.g. `http` for fetch handlers) can be added
 * without breaking older agents or hosts: both sides ignore types they do not know.
 */

export interface InvokeContext {
  invocationId: string;
  functionName: string;
  version: number;
  /** Epoch ms. */
  deadline: number;
}

/** An HTTP request for the function (HTTP trigger): headers as pairs, so repeated names survive. */
export interface HttpRequestHead {
  method: string;
  /** Absolute URL as the function should see it: the path after `/fn/<name>`, the query as sent. */
  url: string;
  headers: [string, string][];
}

/**
 * host → agent: an HTTP invocation. A fetch handler gets a Request; a plain handler gets the
 * request as a JSON event and its return value becomes a JSON response. The request body is
 * sent whole (the gateway caps it); the response streams back as http_head, http_chunk…, http_end.
 */
export interface HttpInvokeMessage {
  type: 'http';
  id: string;
  ctx: InvokeContext;
  request: HttpRequestHead;
  /** base64; absent for an empty body. */
  body?: string;
  /** The function's configured env: the fetch handler's `env` argument. */
  env: Record<string, string>;
}

/**
 * Turns a stem cell (a container of the base layer only, no /function) into one function's
 * container, once: the agent writes `files` under its own /tmp, sets `env`, and imports the entry.
 */
export interface SpecializeMessage {
  type: 'specialize';
  functionName: string;
  version: number;
  /**
   * The function's files, in the order their bytes follow in the frame's attachment: relative path
   * under the function dir and size. Must contain the bundle, `index.cjs` or `index.mjs`.
   */
  files: { path: string; bytes: number }[];
  env: Record<string, string>;
  /** The function's memory limit in MiB: its HEARTH_MEMORY_MB from now on. */
  memoryMb: number;
  /**
   * The bundle's V8 code cache, as a cold start's `--code-cache=` flag says it: `follows` (one made
   * after a run), `upgrade` (compiled code only: make a fuller one after the first invocation) or
   * `produce` (none: make one). Its `bytes` follow the files' in the attachment (0 for `produce`).
   * Absent: no cache is used or made.
   */
  codeCache?: { mode: 'follows' | 'upgrade' | 'produce'; bytes: number };
}

/**
 * Both ways: the V8 code cache of the function's bundle, base64. host → agent as the first
 * message when the agent was started with `--code-cache=follows`; agent → host once, after the
 * first invocation, when it was started with `--code-cache=produce` (or its cache was rejected).
 */
export interface CodeCacheMessage {
  type: 'code_cache';
  data: string;
}

/** host → agent */
export interface InvokeMessage {
  type: 'invoke';
  id: string;
  event: unknown;
  ctx: InvokeContext;
}

export type HostMessage = InvokeMessage | HttpInvokeMessage | SpecializeMessage | CodeCacheMessage;

/** agent → host, for `http` invocations; a failure before or during the body is a `result` with ok false. */
export type HttpResponseMessage =
  | { type: 'http_head'; id: string; status: number; headers: [string, string][] }
  | { type: 'http_chunk'; id: string; data: string }
  | { type: 'http_end'; id: string };

/** Response body chunks are re-cut to at most this many bytes per message. */
export const MAX_HTTP_CHUNK_BYTES = 256 * 1024;

export interface AgentError {
  name: string;
  message: string;
  stack?: string;
}

/** agent → host. `id` null on a log line means "not inside any invocation" (module scope, stray timers). */
export type AgentMessage =
  /** `codeCache`: what V8 made of the code cache the host sent (absent: none was sent or used). */
  | { type: 'ready'; codeCache?: 'accepted' | 'rejected' }
  /** A stem cell loaded the code it was sent (failures come as `init_error`); `codeCache` as for `ready`. */
  | { type: 'specialized'; codeCache?: 'accepted' | 'rejected' }
  | { type: 'init_error'; message: string; stack?: string }
  | { type: 'log'; id: string | null; stream: 'stdout' | 'stderr'; time: number; line: string }
  | { type: 'result'; id: string; ok: true; value: unknown }
  | { type: 'result'; id: string; ok: false; error: AgentError }
  | HttpResponseMessage
  | CodeCacheMessage;

/** A handler's result is capped so one reply cannot blow up the host; events are capped by the gateway. */
export const MAX_RESULT_BYTES = 6 * 1024 * 1024;
/** Longest line either side accepts: a max-size payload plus JSON escaping headroom. */
export const MAX_MESSAGE_BYTES = 32 * 1024 * 1024;
/** One log line longer than this is cut (by the agent and again by the host for raw stdio). */
export const MAX_LOG_LINE_BYTES = 16 * 1024;
/** Per-invocation log caps (the host enforces them; the agent stops sending just past them). */
export const MAX_LOG_BYTES = 256 * 1024;
export const MAX_LOG_LINES = 2000;
