import type { z } from 'zod';
import type { FunctionConfigInput } from '../config/index.ts';
import type * as s from '../api/index.ts';
import { HearthApiError } from './errors.ts';

type Out<T extends z.ZodType> = z.output<T>;
type In<T extends z.ZodType> = z.input<T>;

export interface HearthClientOptions {
  /** Base URL of the server; default `HEARTH_URL` or http://127.0.0.1:8080. */
  url?: string;
  /** Bearer key; default `HEARTH_API_KEY`. */
  apiKey?: string;
  /** Replaces the global fetch (tests, proxies). */
  fetch?: typeof fetch;
}

/** `POST /v1/functions` body, with `config` typed as the function config it is validated against. */
export type DeployInput = Omit<In<typeof s.deployBodySchema>, 'config'> & { config?: FunctionConfigInput };

export interface InvokeResult<T = unknown> {
  result: T;
  invocationId: string;
  coldStart: boolean;
}

type Query = Record<string, string | number | undefined>;

/**
 * Typed client for Hearth's HTTP API; the `hearth` CLI is built on it. Request and response
 * types are inferred from the zod schemas the gateway validates with (src/api/schemas.ts).
 * Errors are thrown as HearthApiError with the server's code and message.
 *
 * @example
 * const hearth = new HearthClient({ url: 'http://127.0.0.1:8080' });
 * await hearth.deploy({ name: 'add', source: 'export default (e) => e.a + e.b' });
 * const { result } = await hearth.invoke<number>('add', { a: 1, b: 2 });
 */
export class HearthClient {
  readonly url: string;
  private readonly apiKey: string | undefined;
  private readonly fetchImpl: typeof fetch;

  constructor(opts: HearthClientOptions = {}) {
    this.url = (opts.url ?? process.env.HEARTH_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
    this.apiKey = opts.apiKey ?? (process.env.HEARTH_API_KEY || undefined);
    this.fetchImpl = opts.fetch ?? fetch;
  }

  /** One request; returns the raw Response after turning error statuses into HearthApiError. */
  async request(method: string, path: string, opts: { body?: unknown; query?: Query; headers?: Record<string, string> } = {}): Promise<Response> {
    const url = new URL(this.url + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { ...opts.headers };
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] = 'application/json';
    }
    let res: Response;
    try {
      res = await this.fetchImpl(url, { method, headers, body });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new HearthApiError('unreachable', `cannot reach Hearth at ${this.url}: ${cause?.code ?? cause?.message ?? (err as Error).message}`, 0);
    }
    if (res.ok) return res;
    const text = await res.text();
    let code = 'internal';
    let message = text || res.statusText;
    try {
      const parsed = JSON.parse(text) as { error?: { code?: string; message?: string } };
      if (parsed.error?.code) code = parsed.error.code;
      if (parsed.error?.message) message = parsed.error.message;
    } catch {
      // Not our JSON error (a proxy, say): keep the raw text.
    }
    throw new HearthApiError(code, message, res.status, res.headers.get('x-hearth-invocation-id') ?? undefined);
  }

  private async json<T>(method: string, path: string, opts: { body?: unknown; query?: Query } = {}): Promise<T> {
    const res = await this.request(method, path, opts);
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  // ---- functions ----
  health(): Promise<Out<typeof s.healthResponseSchema>> {
    return this.json('GET', '/healthz');
  }

  /** Readiness; a server that is not ready answers 503, thrown as `HearthApiError` with code `unavailable`. */
  ready(): Promise<Out<typeof s.readyResponseSchema>> {
    return this.json('GET', '/readyz');
  }

  deploy(input: DeployInput): Promise<Out<typeof s.deployResponseSchema>> {
    return this.json('POST', '/v1/functions', { body: input });
  }

  async list(): Promise<Out<typeof s.functionRecordSchema>[]> {
    return (await this.json<Out<typeof s.functionListSchema>>('GET', '/v1/functions')).functions;
  }

  get(name: string): Promise<Out<typeof s.functionDescriptionSchema>> {
    return this.json('GET', `/v1/functions/${enc(name)}`);
  }

  async remove(name: string): Promise<void> {
    await this.request('DELETE', `/v1/functions/${enc(name)}`);
  }

  async versions(name: string): Promise<Out<typeof s.versionListSchema>['versions']> {
    return (await this.json<Out<typeof s.versionListSchema>>('GET', `/v1/functions/${enc(name)}/versions`)).versions;
  }

  rollback(name: string, version: number): Promise<Out<typeof s.functionRecordSchema>> {
    const body: In<typeof s.rollbackBodySchema> = { version };
    return this.json('POST', `/v1/functions/${enc(name)}/rollback`, { body });
  }

  // ---- invocations ----
  /** Synchronous invoke: resolves with the function's result, throws HearthApiError when it failed. */
  async invoke<T = unknown>(name: string, event: unknown = null, opts: Out<typeof s.invokeQuerySchema> = {}): Promise<InvokeResult<T>> {
    const res = await this.request('POST', `/v1/functions/${enc(name)}/invoke`, { body: event, query: { version: opts.version } });
    const text = await res.text();
    return {
      result: (text === '' ? null : JSON.parse(text)) as T,
      invocationId: res.headers.get('x-hearth-invocation-id') ?? '',
      coldStart: res.headers.get('x-hearth-cold-start') === 'true',
    };
  }

  invokeAsync(name: string, event: unknown = null, opts: Out<typeof s.asyncInvokeQuerySchema> = {}): Promise<Out<typeof s.asyncAcceptedSchema>> {
    return this.json('POST', `/v1/functions/${enc(name)}/invocations`, { body: event, query: { ...opts } });
  }

  invocation(id: string): Promise<Out<typeof s.invocationRecordSchema>> {
    return this.json('GET', `/v1/invocations/${enc(id)}`);
  }

  async invocationLogs(id: string): Promise<Out<typeof s.logEntrySchema>[]> {
    return (await this.json<Out<typeof s.logsResponseSchema>>('GET', `/v1/invocations/${enc(id)}/logs`)).logs;
  }

  async functionLogs(name: string, opts: { since?: string; limit?: number } = {}): Promise<Out<typeof s.logEntrySchema>[]> {
    return (await this.json<Out<typeof s.logsResponseSchema>>('GET', `/v1/functions/${enc(name)}/logs`, { query: { ...opts } })).logs;
  }

  async deadLetters(name: string): Promise<Out<typeof s.invocationRecordSchema>[]> {
    return (await this.json<Out<typeof s.deadLetterListSchema>>('GET', `/v1/functions/${enc(name)}/dead-letters`)).deadLetters;
  }

  retry(id: string): Promise<Out<typeof s.asyncAcceptedSchema>> {
    return this.json('POST', `/v1/invocations/${enc(id)}/retry`);
  }

  // ---- schedules ----
  async schedules(name: string): Promise<Out<typeof s.scheduleSchema>[]> {
    return (await this.json<Out<typeof s.scheduleListSchema>>('GET', `/v1/functions/${enc(name)}/schedules`)).schedules;
  }

  getSchedule(name: string, id: string): Promise<Out<typeof s.scheduleSchema>> {
    return this.json('GET', `/v1/functions/${enc(name)}/schedules/${enc(id)}`);
  }

  setSchedule(name: string, id: string, schedule: In<typeof s.scheduleBodySchema>): Promise<Out<typeof s.scheduleSchema>> {
    return this.json('PUT', `/v1/functions/${enc(name)}/schedules/${enc(id)}`, { body: schedule });
  }

  async removeSchedule(name: string, id: string): Promise<void> {
    await this.request('DELETE', `/v1/functions/${enc(name)}/schedules/${enc(id)}`);
  }

  // ---- secrets ----
  async secrets(): Promise<Out<typeof s.secretInfoSchema>[]> {
    return (await this.json<Out<typeof s.secretListSchema>>('GET', '/v1/secrets')).secrets;
  }

  /** A secret's name and bookkeeping; its value is never returned. */
  secret(name: string): Promise<Out<typeof s.secretInfoSchema>> {
    return this.json('GET', `/v1/secrets/${enc(name)}`);
  }

  setSecret(name: string, value: string): Promise<Out<typeof s.secretInfoSchema>> {
    const body: In<typeof s.secretBodySchema> = { value };
    return this.json('PUT', `/v1/secrets/${enc(name)}`, { body });
  }

  async removeSecret(name: string): Promise<void> {
    await this.request('DELETE', `/v1/secrets/${enc(name)}`);
  }

  // ---- server ----
  /** Warm containers of every live node, each naming its node. */
  async pool(): Promise<Out<typeof s.poolEntrySchema>[]> {
    return (await this.json<Out<typeof s.poolResponseSchema>>('GET', '/v1/pool')).containers;
  }

  /** The cluster's live nodes (a node drops out ~15 s after its last heartbeat). */
  async nodes(): Promise<Out<typeof s.nodeSchema>[]> {
    return (await this.json<Out<typeof s.nodeListSchema>>('GET', '/v1/nodes')).nodes;
  }

  gc(): Promise<Out<typeof s.gcResponseSchema>> {
    return this.json('POST', '/v1/gc');
  }

  openapi(): Promise<Record<string, unknown>> {
    return this.json('GET', '/openapi.json');
  }

  async metrics(): Promise<string> {
    return (await this.request('GET', '/metrics')).text();
  }
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}
