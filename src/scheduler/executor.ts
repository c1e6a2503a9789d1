import type { FunctionCatalog } from '../catalog/index.ts';
import type { Pool } from '../pool/index.ts';
import type { InvocationExecutor, InvocationJob, InvocationResult } from './invocation.ts';
import { runQueuedHttp } from './http-job.ts';

/** Margin kept between the function's own deadline and the caller's, so the caller hears "timeout" from us. */
const REPLY_MARGIN_MS = 250;

/** Turns a job into a pool run: resolves the version to run, applies the deadline, shapes the result. */
export function createExecutor(deps: { catalog: FunctionCatalog; pool: Pool }): InvocationExecutor {
  return async function executeInvocation(job: InvocationJob): Promise<InvocationResult> {
    const startedAt = Date.now();
    const base = {
      invocationId: job.invocationId,
      function: job.function,
      coldStart: false,
      containerId: null,
      queuedMs: startedAt - job.enqueuedAt,
      logs: [],
    };
    const fail = (code: 'not_found' | 'timeout', message: string, version: number | null = null): InvocationResult => ({
      ...base, version, ok: false, error: { code, message }, durationMs: 0,
    });

    if (job.callerDeadline !== undefined && startedAt >= job.callerDeadline) {
      return fail('timeout', 'the invocation waited in the queue past its deadline');
    }
    const fn = job.version === undefined
      ? await deps.catalog.get(job.function)
      : await deps.catalog.getVersion(job.function, job.version);
    if (!fn) {
      const what = job.version === undefined ? `function ${job.function}` : `version ${job.version} of function ${job.function}`;
      return fail('not_found', `${what} does not exist`, job.version ?? null);
    }

    let deadline = startedAt + fn.config.timeoutMs;
    if (job.callerDeadline !== undefined) deadline = Math.min(deadline, job.callerDeadline - REPLY_MARGIN_MS);
    const poolFn = { name: fn.name, version: fn.version, digest: fn.digest, config: fn.config };
    const req = { invocationId: job.invocationId, event: job.event, deadline };
    const run = job.http ? await runQueuedHttp(deps.pool, poolFn, { ...req, event: null }, job.http) : await deps.pool.run(poolFn, req);
    const outcome = run.outcome;
    // Object.assign, not a leading spread: see `amended` in invocation-record.ts (once per job).
    return Object.assign({}, base, {
      version: fn.version,
      coldStart: run.coldStart,
      containerId: run.containerId,
      ok: outcome.ok,
      ...(outcome.ok ? { result: outcome.result } : { error: outcome.error }),
      durationMs: outcome.durationMs,
      logs: outcome.logs,
    });
  };
}
