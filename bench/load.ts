/**
 * Load shapes shared by the floors and Hearth, so both are measured by the same code: the callers
 * run in the bench process, the server under test in another. Each loop ends early once `stop`
 * (the bench's interruption) is set.
 */

import { sleep } from './stats.ts';

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

/**
 * Warm-up before each timed part of warmRounds (sequential, then 64 callers): blocks of load until
 * the last STEADY_BLOCKS agree on calls/s within STEADY_SPREAD, at least WARMUP_MIN_MS and at most
 * WARMUP_MAX_MS. A fixed second was not enough here: after a start, a server's calls cost up to 5 ×
 * their steady CPU for seconds (V8 compiling the path, and this VM's CPUs ramping up under load;
 * the floors show the ramp too, shorter), so the figures were of the ramp, not of warm calls.
 */
const WARMUP_BLOCK_MS = 500;
const WARMUP_MIN_MS = 1_500;
const WARMUP_MAX_MS = 15_000;
const STEADY_BLOCKS = 3;
const STEADY_SPREAD = 1.15;

/** Runs `count` callers of `op` until its calls/s is steady (see above); returns the time it took, ms. */
export async function warmUp(count: number, op: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  const rates: number[] = [];
  for (;;) {
    rates.push((await callers(count, WARMUP_BLOCK_MS, op)).perSecond);
    const elapsed = performance.now() - start;
    const last = rates.slice(-STEADY_BLOCKS);
    const steady = last.length === STEADY_BLOCKS && Math.max(...last) <= STEADY_SPREAD * Math.min(...last);
    if ((steady && elapsed >= WARMUP_MIN_MS) || elapsed >= WARMUP_MAX_MS) return elapsed;
  }
}
/** Rounds warmRounds takes its figures in, alternating the sides within each. */
const ROUNDS = 5;

/** What warmRounds measured of one side. */
export interface WarmSide {
  /** Every sequential call's duration, ms. */
  times: number[];
  /** Calls per second with 64 keep-alive callers, over all rounds. */
  perSecond: number;
  /** Failed calls among the 64-caller runs. */
  errors: number;
  /** How long each warm-up ran until the side's calls/s was steady, ms. */
  warmupMs: { sequential: number; callers64: number };
}

/**
 * The warm figures of one or more servers, measured by the same code: `calls` sequential calls
 * and `throughputMs` of 64 callers each, in rounds alternating the sides, so a machine whose
 * speed drifts (a shared host, frequency changes) moves every side alike. Each part is preceded by
 * a warm-up until the side is steady (`warmUp`): the figures are of servers in their steady state,
 * whose JIT has compiled the call path, and 64 callers need every container started first.
 */
export async function warmRounds(sides: (() => Promise<unknown>)[], o: { calls: number; throughputMs: number }): Promise<WarmSide[]> {
  const times = sides.map((): number[] => []);
  const runs = sides.map(() => ({ calls: 0, ms: 0, errors: 0 }));
  const warmups = sides.map(() => ({ sequential: 0, callers64: 0 }));
  for (const [i, op] of sides.entries()) warmups[i]!.sequential = await warmUp(1, op);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, op] of sides.entries()) times[i]!.push(...(await sequential(Math.ceil(o.calls / ROUNDS), 0, op)));
  }
  for (const [i, op] of sides.entries()) warmups[i]!.callers64 = await warmUp(64, op);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, op] of sides.entries()) {
      const run = await callers(64, o.throughputMs / ROUNDS, op);
      runs[i]!.calls += run.times.length;
      runs[i]!.ms += run.perSecond > 0 ? (run.times.length / run.perSecond) * 1000 : 0;
      runs[i]!.errors += run.errors;
    }
  }
  return sides.map((_, i) => ({ times: times[i]!, perSecond: runs[i]!.ms > 0 ? runs[i]!.calls / (runs[i]!.ms / 1000) : 0, errors: runs[i]!.errors, warmupMs: warmups[i]! }));
}

/** Where an async submission stands, as a poller sees it. */
export type AsyncState = 'pending' | 'succeeded' | 'failed';

export interface AsyncRun {
  invocations: number;
  /** From the first submission until every one was seen final, ms. */
  totalMs: number;
  perSecond: number;
  failed: number;
}

/**
 * `n` async submissions by 64 callers, then each polled until final. Polling starts once all are
 * submitted (so it does not compete with submission) and walks the ids in submission order: by
 * the time a late id is final most earlier ones are, so few polls repeat. Hearth and the async
 * floor with HTTP are measured by this same loop.
 */
export async function submitThenPoll(n: number, submit: () => Promise<string>, state: (id: string) => Promise<AsyncState>): Promise<AsyncRun> {
  const ids = new Array<string>(n);
  const start = performance.now();
  await inParallel(n, 64, async (i) => {
    ids[i] = await submit();
  });
  let failed = 0;
  const deadline = Date.now() + 180_000;
  await inParallel(n, 8, async (i) => {
    for (;;) {
      const now = await state(ids[i]!);
      if (now === 'succeeded') return;
      if (now === 'failed') return void failed++;
      if (Date.now() > deadline) throw new Error(`async: ${ids[i]} still pending after 180 s`);
      await sleep(2);
    }
  });
  const totalMs = performance.now() - start;
  return { invocations: n, totalMs, perSecond: n / (totalMs / 1000), failed };
}
