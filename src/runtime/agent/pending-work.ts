/**
 * "The work this invocation started is done": Lambda ends a callback-style handler that never
 * calls back once its event loop is empty. A warm agent's loop is shared (the host channel,
 * other invocations, a module's own timers), so instead the async resources an invocation creates
 * (timers, sockets, file and DNS requests, and what those create in turn) are tracked through an
 * AsyncLocalStorage, and the invocation is quiet when none of them is still alive and referenced.
 * The hook runs only while such an invocation is being tracked: it slows every async operation.
 */
import { AsyncLocalStorage, createHook } from 'node:async_hooks';

interface Tracker {
  /** Live resources by async id (a Timeout, a TCPWRAP handle…). */
  live: Map<number, { hasRef?: () => boolean }>;
}

const tracking = new AsyncLocalStorage<Tracker>();
const owners = new Map<number, Tracker>();
let trackers = 0;

const hook = createHook({
  init(asyncId, type, _trigger, resource) {
    if (type === 'PROMISE') return;
    const t = tracking.getStore();
    if (!t) return;
    t.live.set(asyncId, resource as { hasRef?: () => boolean });
    owners.set(asyncId, t);
  },
  destroy(asyncId) {
    owners.get(asyncId)?.live.delete(asyncId);
    owners.delete(asyncId);
  },
});

/** What keeps the event loop alive: unreferenced timers and idle keep-alive sockets do not. */
function busy(t: Tracker): boolean {
  for (const r of t.live.values()) if (typeof r.hasRef !== 'function' || r.hasRef()) return true;
  return false;
}

const POLL_MS = 5;

export interface TrackedCall<T> {
  result: T;
  /** Resolves once nothing the call started is alive; stop() ends tracking early. */
  quiet: Promise<void>;
  stop(): void;
}

/** Runs `fn` with its async work tracked; call stop() once the outcome is known. */
export function trackWork<T>(fn: () => T): TrackedCall<T> {
  const t: Tracker = { live: new Map() };
  if (trackers++ === 0) hook.enable();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let resolveQuiet!: () => void;
  const quiet = new Promise<void>((r) => (resolveQuiet = r));
  const stop = () => {
    if (stopped) return;
    stopped = true;
    if (timer) clearTimeout(timer);
    for (const id of t.live.keys()) owners.delete(id);
    t.live.clear();
    if (--trackers === 0) hook.disable();
  };
  // Outside the tracker's context, so the poll does not count as the invocation's work.
  const poll = () =>
    tracking.exit(() => {
      timer = setTimeout(() => {
        if (stopped) return;
        if (busy(t)) poll();
        else {
          stop();
          resolveQuiet();
        }
      }, POLL_MS);
    });
  let result: T;
  try {
    result = tracking.run(t, fn);
  } catch (e) {
    stop();
    throw e;
  }
  poll();
  return { result, quiet, stop };
}
