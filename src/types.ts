/**
 * Types for function code: what a handler receives and may return. They describe what the
 * in-container agent actually hands over, so a function can rely on every member.
 */

/** What every invocation gets besides its event. */
export interface Context {
  invocationId: string;
  functionName: string;
  version: number;
  /** Epoch ms after which the invocation is cut off with a timeout. */
  deadline: number;
  /** Milliseconds left until `deadline` (never negative): how much work is still worth starting. */
  getRemainingTimeMs(): number;
  /** The Lambda Node.js context, so Lambda handlers run unchanged. */
  awsRequestId: string;
  functionVersion: string;
  memoryLimitInMB: string;
  invokedFunctionArn: string;
  logGroupName: string;
  logStreamName: string;
  /**
   * Accepted for compatibility; the response is sent when the callback is called either way (a
   * warm container's event loop is shared and never empties, so waiting would hold every reply).
   */
  callbackWaitsForEmptyEventLoop: boolean;
  getRemainingTimeInMillis(): number;
  /** Legacy Lambda outcome reporting: the first outcome (return, callback or these) wins. */
  succeed(value?: unknown): void;
  fail(error?: unknown): void;
  done(error?: unknown, value?: unknown): void;
}

/** A plain handler: event in, JSON-able value out (default export or named `handler`). */
export type Handler<E = unknown, R = unknown> = (event: E, ctx: Context) => R | Promise<R>;

/** A fetch handler (Workers / Hono style), served by the HTTP trigger `/fn/:name/*`. */
export interface FetchHandler {
  fetch(request: Request, env: Record<string, string>, ctx: Context): Response | Promise<Response>;
}
