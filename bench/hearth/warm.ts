import { callers, sequential, type CallerRun } from '../load.ts';
import { median, percentile } from '../stats.ts';
import type { HearthApi } from './api.ts';

/** Warm-up before the timed runs (sequential, then 64 callers). */
const WARMUP_MS = 1_000;

export interface WarmFigures {
  p50Ms: number;
  perSecond: number;
  /** Failed calls during the 64-caller run. */
  throughputErrors: number;
  steady: { callers: number; seconds: number; p50Ms: number; p99Ms: number; errors: number; perSecond: number };
  /** The proxy floor, measured in the same rounds (when measureWarm was given it). */
  floor?: { p50Ms: number; perSecond: number };
}

/** A no-op with room for 64 callers on 4 warm containers, so the figures are of the warm path only. */
export const NOOP = { name: 'noop', source: 'export default async () => null', config: { concurrency: 16, maxContainers: 4, idleTimeoutMs: 600_000 } };

/** Rounds the warm figures are taken in, alternating Hearth and the floor within each. */
const ROUNDS = 5;

/** Sequential p50 and 64-caller throughput of one side, gathered over the rounds. */
class SideFigures {
  readonly times: number[] = [];
  private calls = 0;
  private ms = 0;
  errors = 0;

  addRun(run: CallerRun): void {
    this.calls += run.times.length;
    this.ms += run.perSecond > 0 ? (run.times.length / run.perSecond) * 1000 : 0;
    this.errors += run.errors;
  }

  get perSecond(): number {
    return this.ms > 0 ? this.calls / (this.ms / 1000) : 0;
  }
}

/**
 * Warm sync invokes of the no-op: sequential p50, throughput with 64 callers, 32 steady callers.
 * With `floorCall` (the proxy floor) both are measured in alternating rounds, so a machine whose
 * speed drifts (a shared host, frequency changes) moves the figure and its floor alike; the floor's
 * figures come back in `floor`.
 */
export async function measureWarm(api: HearthApi, o: { calls: number; throughputMs: number; steadyMs: number }, floorCall?: () => Promise<unknown>): Promise<WarmFigures> {
  const call = () => api.invoke(NOOP.name);
  const sides = floorCall ? [call, floorCall] : [call];
  const figures = sides.map(() => new SideFigures());
  // Warmed up for a time, not a count: the figures are of servers in their steady state, whose
  // JIT has compiled the call path (300 calls left Hearth's larger path partly unoptimized).
  for (const op of sides) await callers(1, WARMUP_MS, op);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, op] of sides.entries()) figures[i]!.times.push(...(await sequential(Math.ceil(o.calls / ROUNDS), 0, op)));
  }
  // Untimed first: 64 callers need every container of the function started, and the figure is
  // of warm calls, not of those starts.
  for (const op of sides) await callers(64, WARMUP_MS, op);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, op] of sides.entries()) figures[i]!.addRun(await callers(64, o.throughputMs / ROUNDS, op));
  }
  const [hearth, floor] = figures as [SideFigures, SideFigures | undefined];
  if (floor && floor.errors > 0) throw new Error(`proxy floor: ${floor.errors} failed calls`);
  const steady = await callers(32, o.steadyMs, call);
  return {
    p50Ms: median(hearth.times),
    perSecond: hearth.perSecond,
    throughputErrors: hearth.errors,
    ...(floor ? { floor: { p50Ms: median(floor.times), perSecond: floor.perSecond } } : {}),
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
