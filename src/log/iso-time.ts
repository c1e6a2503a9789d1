/** Milliseconds remembered: a direct call's record is built ~10 ms after it started under load. */
const SLOTS = 32;
const slotMs = new Float64Array(SLOTS).fill(NaN);
const slotIso = new Array<string>(SLOTS).fill('');

/**
 * `new Date(ms).toISOString()`, remembered for the last few dozen milliseconds (one slot per
 * `ms % 32`). Every record takes two or three times and every log line one, mostly of the same
 * few milliseconds, and toISOString costs ~0.8 µs here. A time that is not an integer (or NaN)
 * is formatted afresh, never cached.
 */
export function isoTime(ms: number): string {
  const slot = ms & (SLOTS - 1);
  if (slotMs[slot] === ms) return slotIso[slot]!;
  const iso = new Date(ms).toISOString();
  if (Number.isInteger(ms)) {
    slotMs[slot] = ms;
    slotIso[slot] = iso;
  }
  return iso;
}

/** pino's `timestamp` option: the same `"time"` field as `pino.stdTimeFunctions.isoTime`. */
export const pinoIsoTime = (): string => `,"time":"${isoTime(Date.now())}"`;
