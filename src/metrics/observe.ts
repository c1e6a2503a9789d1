import { coldStartsTotal, invocationDuration, invocationsTotal, queueWait } from './registry.ts';
import { RecentInvocations } from './recent.ts';

/** The fields of the scheduler's InvocationResult read here (structural: metrics imports nothing from the scheduler). */
export interface ObservedInvocation {
  invocationId: string;
  function: string;
  version: number | null;
  ok: boolean;
  error?: { code: string; message: string };
  coldStart: boolean;
  queuedMs: number;
  durationMs: number;
  logs: { time: number; stream: string; line: string }[];
}

/** What the dashboard reads; filled by observeInvocation in the process that ran the invocation. */
export const recentInvocations = new RecentInvocations();

/** Records one finished invocation: counters, histograms and the dashboard's recent list. One call per invocation. */
export function observeInvocation(result: ObservedInvocation): void {
  const fn = result.function;
  const outcome = result.ok ? 'success' : (result.error?.code ?? 'internal');
  invocationsTotal.inc({ function: fn, outcome });
  invocationDuration.observe({ function: fn }, result.durationMs / 1000);
  queueWait.observe({ function: fn }, Math.max(0, result.queuedMs) / 1000);
  if (result.coldStart) coldStartsTotal.inc({ function: fn });
  recentInvocations.add({
    id: result.invocationId,
    function: fn,
    version: result.version,
    ok: result.ok,
    outcome,
    ...(result.error ? { errorMessage: result.error.message } : {}),
    durationMs: result.durationMs,
    queuedMs: result.queuedMs,
    coldStart: result.coldStart,
    finishedAt: Date.now(),
    logs: result.logs,
  });
}
