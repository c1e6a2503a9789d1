/**
 * Load shapes shared by the floors and Hearth, so both are measured by the same code: the callers
 * run in the bench process, the server under test in another. Each loop ends early once `stop`
 * (the bench's interruption) is set.
 */

let stop: AbortSignal | undefined;

/** The signal every loop checks; set once by the bench. */
export function stopLoadsOn(signal: AbortSignal): void {
  stop = signal;
}

function checkStop(): void {
  if (stop?.aborted) throw new Error('interrupted');
}

/** Runs `op` sequentially `n` times after `warmup` untimed runs; returns each duration in ms. */
export async function sequential(n: number, warmup: number, op: (i: number) => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < warmup; i++) {
    checkStop();
    await op(i);
  }
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    checkStop();
    const t = performance.now();
    await op(i);
    times.push(performance.now() - t);
  }
  return times;
}

export interface CallerRun {
  /** Duration of every completed call, ms. */
  times: number[];
  /** Calls that threw (an HTTP error status counts: `op` throws on it). */
  errors: number;
  /** Completed calls per second over the whole run. */
  perSecond: number;
}

/** `callers` loops, each calling `op` back to back until `durationMs` is over. */
export async function callers(count: number, durationMs: number, op: () => Promise<unknown>): Promise<CallerRun> {
  const times: number[] = [];
  let errors = 0;
  const start = performance.now();
  const end = start + durationMs;
  await Promise.all(
    Array.from({ length: count }, async () => {
      while (performance.now() < end) {
        checkStop();
        const t = performance.now();
        try {
          await op();
          times.push(performance.now() - t);
        } catch {
          errors++;
        }
      }
    }),
  );
  return { times, errors, perSecond: times.length / ((performance.now() - start) / 1000) };
}

/** Runs `op(i)` for i in [0, n) with at most `parallel` at a time; returns each duration in ms, by i. */
export async function inParallel(n: number, parallel: number, op: (i: number) => Promise<unknown>): Promise<number[]> {
  const times = new Array<number>(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, n) }, async () => {
      while (next < n) {
        checkStop();
        const i = next++;
        const t = performance.now();
        await op(i);
        times[i] = performance.now() - t;
      }
    }),
  );
  return times;
}
