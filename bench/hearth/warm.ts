import { callers, sequential } from '../load.ts';
import { median, percentile } from '../stats.ts';
import type { HearthApi } from './api.ts';

/** The 64-caller warm-up before the timed run. */
const WARMUP_MS = 1_000;

export interface WarmFigures {
  p50Ms: number;
  perSecond: number;
  /** Failed calls during the 64-caller run. */
  throughputErrors: number;
  steady: { callers: number; seconds: number; p50Ms: number; p99Ms: number; errors: number; perSecond: number };
}

/** A no-op with room for 64 callers on 4 warm containers, so the figures are of the warm path only. */
export const NOOP = { name: 'noop', source: 'export default async () => null', config: { concurrency: 16, maxContainers: 4, idleTimeoutMs: 600_000 } };

/** Warm sync invokes of the no-op: sequential p50, throughput with 64 callers, 32 steady callers. */
export async function measureWarm(api: HearthApi, o: { calls: number; throughputMs: number; steadyMs: number }): Promise<WarmFigures> {
  const call = () => api.invoke(NOOP.name);
  // Warmed up for a time, not a count: the figure is of a server in its steady state, whose JIT
  // has compiled the call path (300 calls left Hearth's larger path partly unoptimized).
  await callers(1, WARMUP_MS, call);
  const times = await sequential(o.calls, 0, call);
  // Untimed first, as the sequential run's first calls are: 64 callers need every container of
  // the function started, and the figure is of warm calls, not of those starts.
  await callers(64, WARMUP_MS, call);
  const burst = await callers(64, o.throughputMs, call);
  const steady = await callers(32, o.steadyMs, call);
  return {
    p50Ms: median(times),
    perSecond: burst.perSecond,
    throughputErrors: burst.errors,
    steady: {
      callers: 32,
      seconds: o.steadyMs / 1000,
      p50Ms: median(steady.times),
      p99Ms: percentile(steady.times, 0.99),
      errors: steady.errors,
      perSecond: steady.perSecond,
    },
  };
}
