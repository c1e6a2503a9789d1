/**
 * Whether a series of samples keeps growing: after a warm-up, the later half of the samples only
 * ever rises, and by more than both a relative and an absolute slack. A level that settles, or
 * that rises and falls back (garbage collection, idle reaping), passes.
 */
export interface GrowthRule {
  /** Samples ignored at the start (caches filling, containers starting). */
  warmup: number;
  /** Rise that counts as noise, as a fraction of the first judged sample. */
  relative: number;
  /** Rise that counts as noise, in the metric's unit. */
  absolute: number;
}

export function keepsGrowing(samples: number[], rule: GrowthRule): boolean {
  const judged = samples.slice(rule.warmup);
  if (judged.length < 4) return false;
  const tail = judged.slice(Math.floor(judged.length / 2) - 1);
  const neverFalls = tail.every((v, i) => i === 0 || v >= tail[i - 1]!);
  const rise = judged[judged.length - 1]! - judged[0]!;
  return neverFalls && rise > Math.max(rule.relative * judged[0]!, rule.absolute);
}
