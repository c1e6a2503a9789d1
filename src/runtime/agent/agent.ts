/**
 * The in-container agent: runs as pid 2 under tini, talks to the host over fd 3 (a socketpair that
 * runc passes in with --preserve-fds 1), loads the function once and serves invocations.
 * Plain Node, no dependencies: esbuild bundles this file (and the shared framing) into one CommonJS file.
 *
 * fd 1/2 are runc's pipes to the host; the agent itself never writes there. User output is
 * captured (console.* and process.stdout/stderr.write) and sent as `log` messages tagged with the
 * invocation it belongs to, found through AsyncLocalStorage so concurrent invocations stay apart.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { join } from 'node:path';
import { Socket } from 'node:net';
import { formatWithOptions, inspect } from 'node:util';
import { encodeMessage, NdjsonChannel } from '../channel.ts';
import { httpEvent } from './http-event.ts';
import { callHandler } from './call-handler.ts';
import { contextFacts, functionContext, type ContextFacts } from './context.ts';
import { findHandler, NO_HANDLER_HINT, type Loaded } from './find-handler.ts';
import { bundleAmong, bundleIn, filesOf, loadBundle, setModuleGlobals, writeBundleFiles } from './function-bundle.ts';
import { rehearse } from './rehearsal.ts';
import { BundleCodeCache } from './bundle-code-cache.ts';
import { apiGatewayEvent, openWhiskParams, openWhiskResultToHttp, proxyResultToHttp, type HttpResult } from './lambda-http.ts';
import {
  MAX_LOG_BYTES,
  MAX_LOG_LINE_BYTES,
  MAX_HTTP_CHUNK_BYTES,
  MAX_LOG_LINES,
  MAX_MESSAGE_BYTES,
  MAX_RESULT_BYTES,
  type AgentError,
  type AgentMessage,
  type HostMessage,
  type HttpInvokeMessage,
  type InvokeMessage,
  type SpecializeMessage,
} from '../protocol.ts';

const FUNCTION_DIR = '/function';
/** Where a stem cell puts the code it is sent: its own tmpfs, which no other container sees. */
const STEM_FUNCTION_DIR = '/tmp/.hearth-function';
let FUNCTION_NAME = process.env.HEARTH_FUNCTION ?? 'function';

type Stream = 'stdout' | 'stderr';

interface Invocation {
  id: string;
  lines: number;
  bytes: number;
  partial: Record<Stream, string>;
}

const als = new AsyncLocalStorage<Invocation>();
const active = new Map<string, Invocation>();
/** A new invocation's output state. */
function invocation(id: string): Invocation {
  return { id, lines: 0, bytes: 0, partial: { stdout: '', stderr: '' } };
}

/** Output from outside any invocation (module scope, stray timers). */
const idle = invocation('');

const channel = new NdjsonChannel<AgentMessage, HostMessage>(new Socket({ fd: 3, readable: true, writable: true }), MAX_MESSAGE_BYTES, {
  onMessage: (m, attachment) => onMessage(m, attachment),
  // The host never sends garbage; if it does, there is nobody sane to report to.
  onProtocolError: () => process.exit(2),
  // Host gone (Hearth died or destroyed us): a container without its host is useless.
  onClose: () => process.exit(0),
}, { acceptAttachments: true });

// ---- output capture -------------------------------------------------------------------------

/** The invocation output belongs to: the async context's, else the only one running. */
function owner(): Invocation {
  const store = als.getStore();
  if (store && active.has(store.id)) return store;
  if (active.size === 1) return active.values().next().value as Invocation;
  return idle;
}

function sendLine(inv: Invocation, stream: Stream, line: string): void {
  // Stop just past the host's cap: the host still sees the overflow and marks the logs truncated.
  if (inv !== idle && (inv.lines > MAX_LOG_LINES || inv.bytes > MAX_LOG_BYTES)) return;
  if (line.length > MAX_LOG_LINE_BYTES) line = line.slice(0, MAX_LOG_LINE_BYTES) + ' [truncated]';
  inv.lines++;
  inv.bytes += line.length;
  channel.send({ type: 'log', id: inv === idle ? null : inv.id, stream, time: Date.now(), line });
}

/** Text written to a stream: whole lines go out now, a trailing partial line waits for more. */
function write(stream: Stream, text: string): void {
  const inv = owner();
  const parts = (inv.partial[stream] + text).split('\n');
  inv.partial[stream] = parts.pop() ?? '';
  for (const line of parts) sendLine(inv, stream, line);
  if (inv.partial[stream].length > MAX_LOG_LINE_BYTES) {
    sendLine(inv, stream, inv.partial[stream]);
    inv.partial[stream] = '';
  }
}

function flushPartial(inv: Invocation): void {
  for (const stream of ['stdout', 'stderr'] as const) {
    if (inv.partial[stream]) sendLine(inv, stream, inv.partial[stream]);
    inv.partial[stream] = '';
  }
}

function patchStream(target: NodeJS.WriteStream, stream: Stream): void {
  // Replaces the instance method; Node's console and user code both look it up at call time.
  target.write = function hearthWrite(chunk: unknown, encoding?: unknown, cb?: unknown): boolean {
    const callback = typeof encoding === 'function' ? encoding : cb;
    const text =
      typeof chunk === 'string'
        ? chunk
        : Buffer.from(chunk as Uint8Array).toString(typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
    write(stream, text);
    if (typeof callback === 'function') process.nextTick(callback as () => void);
    return true;
  } as NodeJS.WriteStream['write'];
}

function patchConsole(): void {
  const fmt = (args: unknown[]) => formatWithOptions({ colors: false }, ...args) + '\n';
  const to = (stream: Stream) => (...args: unknown[]) => write(stream, fmt(args));
  console.log = to('stdout');
  console.info = to('stdout');
  console.debug = to('stdout');
  console.warn = to('stderr');
  console.error = to('stderr');
  console.trace = (...args: unknown[]) => {
    const err = { name: 'Trace', message: formatWithOptions({ colors: false }, ...args) } as Error;
    Error.captureStackTrace(err, console.trace);
    write('stderr', `${err.stack}\n`);
  };
  console.dir = (obj: unknown, options?: object) => write('stdout', inspect(obj, { ...options, colors: false }) + '\n');
  // table/group/count/time/assert use the patched process streams.
}

patchStream(process.stdout, 'stdout');
patchStream(process.stderr, 'stderr');
patchConsole();

// A stray throw or rejection from user code must not take a warm container down.
process.on('uncaughtException', (err) => write('stderr', `Uncaught ${inspect(err)}\n`));
process.on('unhandledRejection', (reason) => write('stderr', `Unhandled rejection: ${inspect(reason)}\n`));

// ---- function loading -----------------------------------------------------------------------

function toAgentError(e: unknown): AgentError {
  if (typeof e === 'object' && e !== null && typeof (e as Error).message === 'string') {
    const err = e as Error;
    return { name: typeof err.name === 'string' ? err.name : 'Error', message: err.message, ...(typeof err.stack === 'string' ? { stack: err.stack } : {}) };
  }
  return { name: 'Error', message: typeof e === 'string' ? e : inspect(e) };
}

let loaded: Loaded | undefined;

/** Set once a stem cell was asked to specialize: it serves that one function for life. */
let specializing = false;

/** The host's code cache for the bundle: waited for, used, and made after the first invocation. */
const codeCache = new BundleCodeCache(process.argv, (data) => channel.send({ type: 'code_cache', data }));

async function init(entry: string, cache?: { data?: Buffer }): Promise<boolean> {
  try {
    setModuleGlobals(entry, FUNCTION_NAME);
    const bundle = await loadBundle(entry, cache);
    codeCache.loaded(bundle);
    const found = findHandler(bundle.namespace);
    if (!found) {
      throw new Error(`${entry} exports no handler: ${NO_HANDLER_HINT}`);
    }
    loaded = found;
  } catch (e) {
    flushPartial(idle);
    const err = toAgentError(e);
    // Flush the reason before exiting: the host turns it into createContainer's rejection.
    channel.endWith(encodeMessage({ type: 'init_error', message: err.message, ...(err.stack ? { stack: err.stack } : {}) }), () =>
      process.exit(1),
    );
    return false;
  }
  return true;
}

/**
 * A stem cell becomes one function's container: code under its own /tmp, the function's env, then
 * the same import a normal container does. There is no way back to generic: a second specialize
 * is refused, and the host destroys the container when that function is done with it.
 */
async function specialize(m: SpecializeMessage, attachment: Buffer | undefined): Promise<void> {
  if (specializing || loaded) {
    channel.send({ type: 'log', id: null, stream: 'stderr', time: Date.now(), line: '[hearth] not a generic container: specialize ignored' });
    return;
  }
  specializing = true;
  let bundle: string;
  try {
    const { files, codeCache: cacheBytes } = filesOf(m, attachment);
    bundle = bundleAmong(files);
    writeBundleFiles(STEM_FUNCTION_DIR, files);
    if (m.codeCache) codeCache.adopt(m.codeCache.mode, cacheBytes);
  } catch (e) {
    const err = toAgentError(e);
    channel.endWith(encodeMessage({ type: 'init_error', message: err.message }), () => process.exit(1));
    return;
  }
  for (const [name, value] of Object.entries(m.env)) process.env[name] = value;
  process.env.HEARTH_FUNCTION = m.functionName;
  process.env.HEARTH_VERSION = String(m.version);
  // The function's own limit (the cell started under a larger one); older hosts do not send it.
  if (typeof m.memoryMb === 'number') process.env.HEARTH_MEMORY_MB = String(m.memoryMb);
  FUNCTION_NAME = m.functionName;
  if (await init(join(STEM_FUNCTION_DIR, bundle), await codeCache.forLoad())) {
    channel.send({ type: 'specialized', ...(codeCache.status ? { codeCache: codeCache.status } : {}) });
  }
}

async function boot(): Promise<void> {
  const entry = bundleIn(FUNCTION_DIR);
  // No function bundle: this is a stem cell (base layer only). It is ready to be specialized once
  // it has rehearsed what its first function will make it do.
  if (!entry) {
    await rehearse({ runEvent: (target, m, facts) => eventResultFrame(target, m, invocation(m.id), facts) });
    channel.send({ type: 'ready' });
    return;
  }
  if (codeCache.compileOnly) {
    codeCache.compileAndSend(entry, (line) => write('stderr', `${line}\n`));
    channel.send({ type: 'ready' });
    return;
  }
  if (await init(entry, await codeCache.forLoad())) channel.send({ type: 'ready', ...(codeCache.status ? { codeCache: codeCache.status } : {}) });
}

// ---- invocations ----------------------------------------------------------------------------

function onMessage(m: HostMessage, attachment: Buffer | undefined): void {
  if (m.type === 'invoke') void invoke(m);
  else if (m.type === 'http') void invokeHttp(m);
  else if (m.type === 'specialize') void specialize(m, attachment);
  else if (m.type === 'code_cache') codeCache.received(m.data);
  // Unknown types (a newer host) are ignored.
}

async function invoke(m: InvokeMessage): Promise<void> {
  const inv = invocation(m.id);
  active.set(m.id, inv);
  const frame = await eventResultFrame(loaded, m, inv, contextFacts());
  flushPartial(inv);
  active.delete(m.id);
  channel.sendFrame(frame);
  codeCache.invocationEnded();
}

/** Runs an event handler in `inv`'s async context: its result frame, a failure's included. */
async function eventResultFrame(target: Loaded | undefined, m: InvokeMessage, inv: Invocation, facts: ContextFacts): Promise<string> {
  try {
    if (!target) throw new Error('function is not loaded');
    if (target.kind === 'fetch') {
      throw new Error(`this function exports a fetch handler; invoke it via /fn/${FUNCTION_NAME}/`);
    }
    const { handler, style } = target;
    const value = await als.run(inv, () => callHandler(handler, m.event, m.ctx, { lambdaStyle: style === 'lambda', facts }));
    return resultFrame(m.id, value);
  } catch (e) {
    return encodeMessage({ type: 'result', id: m.id, ok: false, error: toAgentError(e) });
  }
}

/** Serialises once, checking what the host can take; undefined (and functions) become null. */
function resultFrame(id: string, value: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (e) {
    throw new TypeError(`the function's return value is not JSON-serializable: ${(e as Error).message}`);
  }
  json ??= 'null';
  if (json.length > MAX_RESULT_BYTES) {
    throw new RangeError(`the function's return value is too large (${json.length} bytes of JSON, limit ${MAX_RESULT_BYTES})`);
  }
  return `{"type":"result","id":${JSON.stringify(id)},"ok":true,"value":${json}}\n`;
}

// ---- HTTP invocations (the HTTP trigger) ----------------------------------------------------

function toResponse(r: HttpResult): Response {
  // A Buffer is a BodyInit at run time; the DOM typings only name ArrayBuffer-backed views.
  return new Response((r.body ? Buffer.from(r.body) : null) as BodyInit | null, { status: r.status, headers: r.headers });
}

/**
 * Serves one HTTP request: a fetch handler's Response streams back chunk by chunk as it is
 * produced. Event handlers get the request in their platform's shape: a Lambda `handler` an API
 * Gateway 2.0 event (its proxy result is the response), an OpenWhisk `main` web-action params, and
 * a plain default export Hearth's JSON event (its value is the JSON body).
 */
async function invokeHttp(m: HttpInvokeMessage): Promise<void> {
  const inv = invocation(m.id);
  active.set(m.id, inv);
  let headSent = false;
  try {
    await als.run(inv, async () => {
      if (!loaded) throw new Error('function is not loaded');
      const body = m.body === undefined ? undefined : Buffer.from(m.body, 'base64');
      let response: Response;
      if (loaded.kind === 'fetch') {
        const hasBody = body !== undefined && m.request.method !== 'GET' && m.request.method !== 'HEAD';
        const request = new Request(m.request.url, { method: m.request.method, headers: m.request.headers, ...(hasBody ? { body } : {}) });
        const ctx = functionContext(m.ctx, contextFacts(), () => {});
        response = await loaded.fetch(request, { ...m.env }, ctx);
        if (!(response instanceof Response)) throw new TypeError('the fetch handler did not return a Response');
      } else {
        const { method, url, headers } = m.request;
        const { handler, style } = loaded;
        const call = (event: unknown) => callHandler(handler, event, m.ctx, { lambdaStyle: style === 'lambda', facts: contextFacts() });
        if (style === 'lambda') {
          const event = apiGatewayEvent({ method, url, headers, body, requestId: m.id, now: Date.now() });
          response = toResponse(proxyResultToHttp(await call(event)));
        } else if (style === 'openwhisk') {
          response = toResponse(openWhiskResultToHttp(await call(openWhiskParams(method, url, headers, body))));
        } else {
          const value = await call(httpEvent(method, url, headers, body));
          response = new Response(JSON.stringify(value ?? null), { headers: { 'content-type': 'application/json' } });
        }
      }
      const headers: [string, string][] = [];
      response.headers.forEach((value, name) => {
        if (name !== 'set-cookie') headers.push([name, value]);
      });
      for (const cookie of response.headers.getSetCookie()) headers.push(['set-cookie', cookie]);
      channel.send({ type: 'http_head', id: m.id, status: response.status, headers });
      headSent = true;
      if (response.body) {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          for (let off = 0; off < chunk.length; off += MAX_HTTP_CHUNK_BYTES) {
            const part = Buffer.from(chunk.buffer, chunk.byteOffset + off, Math.min(MAX_HTTP_CHUNK_BYTES, chunk.length - off));
            channel.send({ type: 'http_chunk', id: m.id, data: part.toString('base64') });
          }
        }
      }
    });
    flushPartial(inv);
    active.delete(m.id);
    channel.send({ type: 'http_end', id: m.id });
    codeCache.invocationEnded();
  } catch (e) {
    flushPartial(inv);
    active.delete(m.id);
    const err = toAgentError(e);
    if (headSent) err.message = `the response body failed: ${err.message}`;
    channel.send({ type: 'result', id: m.id, ok: false, error: err });
  }
}

void boot();
