import { callers, warmRounds, type WarmSide } from '../load.ts';
import { median, percentile } from '../stats.ts';
import type { HearthApi } from './api.ts';

export interface WarmFigures {
  p50Ms: number;
  perSecond: number;
  /** Failed calls during the 64-caller run. */
  throughputErrors: number;
  steady: { callers: number; seconds: number; p50Ms: number; p99Ms: number; errors: number; perSecond: number };
  /** The proxy floor, measured in the same rounds (when measureWarm was given it). */
  floor?: { p50Ms: number; perSecond: number; warmupMs: WarmSide['warmupMs'] };
  /** How long Hearth's warm-ups ran until steady (see warmUp in load.ts). */
  warmupMs: WarmSide['warmupMs'];
}

/** A no-op with room for 64 callers on 4 warm containers, so the figures are of the warm path only. */
export const NOOP = { name: 'noop', source: 'export default async () => null', config: { concurrency: 16, maxContainers: 4, idleTimeoutMs: 600_000 } };

/**
 * Warm sync invokes of the no-op: sequential p50, throughput with 64 callers, 32 steady callers.
 * With `floorCall` (the proxy floor) both are measured in alternating rounds, so a machine whose
 * speed drifts (a shared host, frequency changes) moves the figure and its floor alike; the floor's
 * figures come back in `floor`.
 */
export async function measureWarm(api: HearthApi, o: { calls: number; throughputMs: number; steadyMs: number }, floorCall?: () => Promise<unknown>): Promise<WarmFigures> {
  const call = () => api.invoke(NOOP.name);
  const [hearth, floor] = (await warmRounds(floorCall ? [call, floorCall] : [call], o)) as [WarmSide, WarmSide | undefined];
  if (floor && floor.errors > 0) throw new Error(`proxy floor: ${floor.errors} failed calls`);
  const steady = await callers(32, o.steadyMs, call);
  return {
    p50Ms: median(hearth.times),
    perSecond: hearth.perSecond,
    throughputErrors: hearth.errors,
    warmupMs: hearth.warmupMs,
    ...(floor ? { floor: { p50Ms: median(floor.times), perSecond: floor.perSecond, warmupMs: floor.warmupMs } } : {}),
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
