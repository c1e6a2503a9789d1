/**
 * Waits for `work` at most `ms`: true when it settled in time (resolved or rejected), false when
 * the time ran out. The work itself goes on; a stop uses this so that no single step, however
 * stuck (a Redis command retrying against a dead server), can hold the whole stop.
 */
export async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  const settled = work.then(() => true as const, () => true as const);
  // A step bounded inside itself; setTimeout would turn Infinity into 1 ms.
  if (!Number.isFinite(ms)) return settled;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
    timer.unref();
  });
  try {
    return await Promise.race([settled, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
