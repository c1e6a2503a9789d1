import type { Context } from '../../src/types.ts';

interface ReportEvent {
  kind?: 'daily' | 'heartbeat';
}

/**
 * A scheduled function: hearth.json declares its schedules (cron, time zone, event). Each run is
 * an ordinary invocation: `GET /v1/functions/nightly-report/logs` shows what it printed, and a run
 * that fails after its retries is listed under `/v1/functions/nightly-report/dead-letters`.
 */
export default async function nightlyReport(event: ReportEvent | null, ctx: Context) {
  const kind = event?.kind ?? 'manual';
  const at = new Date().toISOString();
  console.log(`${kind} report at ${at} (invocation ${ctx.invocationId})`);
  return { kind, at };
}
