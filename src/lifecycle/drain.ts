import { rootLogger } from '../log/index.ts';
import { settlesWithin } from '../time-bound/index.ts';

/** After the containers are gone, the cut-short attempts put their jobs back (a few Redis calls each). */
const GIVE_BACK_MS = 3_000;

/** What a drain stops, seen only through the calls it makes (so this folder needs no scheduler or pool types). */
export interface DrainTargets {
  /** Stops accepting connections; resolves once the open ones ended. */
  stopServer(): Promise<void>;
  /** Cuts the connections still open (callers of cut-short invocations). */
  closeAllConnections(): void;
  workers: { close(): Promise<void>; abandonInFlight(): void };
  replies: { stopWaiting(): void };
  pool: { close(): Promise<void>; snapshot(): readonly { inFlight: number }[] };
  redisUp(): boolean;
  /** HEARTH_SHUTDOWN_TIMEOUT_MS: the grace period of in-flight invocations. */
  timeoutMs: number;
  /** Bound on removing every container and mount. */
  poolCloseMs: number;
}

/** Resolves once `check` holds (polled every 100 ms), or never if `signal` aborts first. */
async function pollUntil(check: () => boolean, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 100).unref());
  }
  await new Promise(() => undefined);
}

/**
 * Stops accepting requests and taking jobs, and gives in-flight invocations the grace period to
 * finish. Those still running then lose their containers and their jobs go back to the queue for
 * the next start; callers still connected are cut off.
 */
export async function drainInvocations(t: DrainTargets): Promise<void> {
  const log = rootLogger().child({ component: 'shutdown' });
  const serverClosed = t.stopServer();
  // Once no worker here runs anything, a sync caller whose job is still queued is told so now.
  const workersClosed = t.workers.close().finally(() => t.replies.stopWaiting());
  const inFlight = () => t.pool.snapshot().reduce((n, c) => n + c.inFlight, 0);
  // Without Redis the workers cannot acknowledge what finished, so their close would wait out the
  // whole grace period: once nothing runs here any more, there is nothing left to wait for.
  const idle = new AbortController();
  const idleWithoutRedis = pollUntil(() => !t.redisUp() && inFlight() === 0, idle.signal);
  const drained = await settlesWithin(Promise.race([Promise.all([serverClosed, workersClosed]), idleWithoutRedis]), t.timeoutMs);
  idle.abort();
  if (drained && t.redisUp()) return;
  if (drained) log.warn('Redis is unreachable and nothing runs here: jobs not acknowledged stay in Redis and run again after their lock expires');
  else log.warn({ timeoutMs: t.timeoutMs, inFlight: inFlight() }, 'grace period over: removing the containers of unfinished invocations, their jobs go back to the queue');
  t.workers.abandonInFlight();
  const poolClosed = await settlesWithin(t.pool.close(), t.poolCloseMs);
  t.replies.stopWaiting();
  // Without Redis the jobs cannot be moved; they stay active there and come back when their lock expires.
  const givenBack = await settlesWithin(workersClosed, t.redisUp() ? GIVE_BACK_MS : 0);
  t.closeAllConnections();
  const serverDone = await settlesWithin(serverClosed, 1_000);
  log.info({ poolClosed, givenBack, serverDone }, 'unfinished invocations cut short');
}
