/**
 * The invocations in flight in one container. Each has an id on the agent channel, a deadline
 * timer, its captured logs and, for an HTTP invocation, the sink its streamed response goes to.
 * Every invocation resolves exactly once: with the agent's result, at its deadline, or failed
 * by the container when it goes away.
 */
import { LogBuffer } from './logs.ts';
import type { AgentMessage, HostMessage } from './protocol.ts';
import type { HttpSink, InvokeErrorCode, InvokeOutcome, InvokeRequest } from './types.ts';

/** setTimeout fires at once for delays past 2^31-1 ms; no invocation runs 24 days anyway. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface InFlight {
  id: string;
  invocationId: string;
  started: number;
  logs: LogBuffer;
  timer: NodeJS.Timeout;
  resolve: (o: InvokeOutcome) => void;
  /** Set for HTTP invocations: where the streamed response goes. */
  http?: HttpSink;
}

export interface InvocationTableDeps {
  containerId: string;
  /** Writes to the agent channel: false when it is closed; throws when the message is not JSON-able. */
  send: (message: HostMessage) => boolean;
  /**
   * Called when an invocation passes its deadline: the function may be stuck in a busy loop and
   * the only cure is a new container. Resolves once the container is gone.
   */
  onDeadline: (invocationId: string) => Promise<void>;
}

type ResultMessage = Extract<AgentMessage, { type: 'result' }>;

export class InvocationTable {
  readonly #entries = new Map<string, InFlight>();
  #seq = 0;

  constructor(private readonly deps: InvocationTableDeps) {}

  get size(): number {
    return this.#entries.size;
  }

  /** Sends the message `build` makes for a fresh channel id; resolves with the outcome. */
  dispatch(req: InvokeRequest, build: (id: string) => HostMessage, sink?: HttpSink): Promise<InvokeOutcome> {
    const started = performance.now();
    if (!Number.isFinite(req.deadline)) return Promise.resolve(failure('internal', `invalid deadline ${req.deadline}`, started));
    const remaining = Math.min(req.deadline - Date.now(), MAX_TIMER_MS);
    // Nothing ran, so the container is fine: no need to destroy it.
    if (remaining <= 0) return Promise.resolve(failure('timeout', 'deadline passed before the invocation started', started));

    const id = String(++this.#seq);
    return new Promise<InvokeOutcome>((resolve) => {
      const entry: InFlight = {
        id,
        invocationId: req.invocationId,
        started,
        logs: new LogBuffer(),
        resolve,
        timer: setTimeout(() => void this.#onDeadline(entry, remaining), remaining),
        ...(sink ? { http: sink } : {}),
      };
      this.#entries.set(id, entry);
      let sent: boolean;
      try {
        sent = this.deps.send(build(id));
      } catch (e) {
        this.#settle(entry, failure('internal', `event is not JSON-serializable: ${(e as Error).message}`, started));
        return;
      }
      if (!sent) this.#settle(entry, failure('internal', `container ${this.deps.containerId} is not running`, started));
    });
  }

  /**
   * Where a log line belongs: the invocation with channel id `id`, or for `null` (output from
   * outside any invocation, e.g. raw stdio) the only invocation in flight, if there is exactly one.
   */
  logsFor(id: string | null): LogBuffer | undefined {
    if (id !== null) return this.#entries.get(id)?.logs;
    if (this.#entries.size !== 1) return undefined;
    return this.#entries.values().next().value?.logs;
  }

  onResult(m: ResultMessage): void {
    const entry = this.#entries.get(m.id);
    if (!entry) return; // Timed out already.
    const durationMs = performance.now() - entry.started;
    if (m.ok) {
      this.#settle(entry, { ok: true, result: m.value, logs: entry.logs.finish(), durationMs });
      return;
    }
    const error = { code: 'function_error' as const, message: m.error.message, ...(m.error.stack ? { stack: m.error.stack } : {}) };
    this.#settle(entry, { ok: false, error, logs: entry.logs.finish(), durationMs });
  }

  onHttpHead(id: string, status: number, headers: [string, string][]): void {
    this.#entries.get(id)?.http?.head(status, headers);
  }

  onHttpChunk(id: string, base64: string): void {
    this.#entries.get(id)?.http?.chunk(Buffer.from(base64, 'base64'));
  }

  /** The body has ended: the outcome carries no result (the response went to the sink). */
  onHttpEnd(id: string): void {
    const entry = this.#entries.get(id);
    if (entry) this.#settle(entry, { ok: true, result: null, logs: entry.logs.finish(), durationMs: performance.now() - entry.started });
  }

  /** The container is gone: every invocation still in flight ends as `code`, with its logs so far. */
  failAll(code: InvokeErrorCode, message: string): void {
    for (const entry of [...this.#entries.values()]) this.#settle(entry, failure(code, message, entry.started, entry.logs));
  }

  #settle(entry: InFlight, outcome: InvokeOutcome): void {
    if (this.#entries.get(entry.id) !== entry) return;
    clearTimeout(entry.timer);
    this.#entries.delete(entry.id);
    entry.resolve(outcome);
  }

  /** Out of the table first, so the container's exit does not fail it as `internal`; answered once it is gone. */
  async #onDeadline(entry: InFlight, budgetMs: number): Promise<void> {
    if (this.#entries.get(entry.id) !== entry) return;
    this.#entries.delete(entry.id);
    await this.deps.onDeadline(entry.invocationId);
    entry.resolve({
      ok: false,
      error: { code: 'timeout', message: `invocation timed out after ${budgetMs} ms` },
      logs: entry.logs.finish(),
      durationMs: performance.now() - entry.started,
    });
  }
}

/** An outcome for an invocation that failed outside the function's code. */
export function failure(code: InvokeErrorCode, message: string, started: number, logs?: LogBuffer): InvokeOutcome {
  return { ok: false, error: { code, message }, logs: logs ? logs.finish() : [], durationMs: performance.now() - started };
}
