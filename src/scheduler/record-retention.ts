import type { InvocationTrigger } from './invocation.ts';

/**
 * How long invocation records live and how many finished ones a function keeps. Two classes:
 * sync and HTTP-trigger records (the caller already has its answer; kept briefly) and async and
 * scheduled ones (looked up later, retried as dead letters; kept a day). Both are capped per
 * function so that sustained traffic keeps Redis bounded, not just the TTL.
 */
export interface RecordRetention {
  /** Async and scheduled records, seconds. */
  ttlS: number;
  /** Sync and HTTP-trigger records, seconds. */
  syncTtlS: number;
  /** Finished async and scheduled records kept per function. */
  perFunction: number;
  /** Finished sync and HTTP-trigger records kept per function. */
  syncPerFunction: number;
}

export type RetentionClass = 'sync' | 'kept';

export const DEFAULT_RETENTION: RecordRetention = { ttlS: 24 * 3600, syncTtlS: 300, perFunction: 10_000, syncPerFunction: 1_000 };

/** A number is the old single TTL: every record gets it, caps stay at their defaults. */
export function retentionFrom(input: number | Partial<RecordRetention>): RecordRetention {
  if (typeof input === 'number') return { ...DEFAULT_RETENTION, ttlS: input, syncTtlS: Math.min(DEFAULT_RETENTION.syncTtlS, input) };
  return { ...DEFAULT_RETENTION, ...input };
}

/** Only invocations that can be looked up later for a reason (polling, dead-letter retry) are kept long. */
export function retentionClassOf(trigger: InvocationTrigger): RetentionClass {
  return trigger === 'async' || trigger === 'schedule' ? 'kept' : 'sync';
}

export function ttlFor(retention: RecordRetention, trigger: InvocationTrigger): number {
  return retentionClassOf(trigger) === 'kept' ? retention.ttlS : retention.syncTtlS;
}

export function capFor(retention: RecordRetention, trigger: InvocationTrigger): number {
  return retentionClassOf(trigger) === 'kept' ? retention.perFunction : retention.syncPerFunction;
}
