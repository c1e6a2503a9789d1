import type { PoolFunction } from './pooled-container.ts';

/** The invocation's deadline passed while it waited for a container. */
export class PoolTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PoolTimeoutError';
  }
}

interface Waiter<L> {
  fn: PoolFunction;
  resolve: (lease: L) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** setTimeout fires at once for longer delays; a far deadline is clamped to the longest timer. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Callers waiting for a container, each until its deadline. They are served oldest first, but one
 * that cannot proceed (its function at its limit) never holds up one that can: no head-of-line
 * blocking across functions. Generic over the lease so it knows nothing of how leases are made.
 */
export class WaitQueue<L> {
  private readonly waiters: Waiter<L>[] = [];

  get size(): number {
    return this.waiters.length;
  }

  /** Whether a caller of function `name` waits. */
  has(name: string): boolean {
    return this.waiters.some((w) => w.fn.name === name);
  }

  /** Waits until `serve` hands this caller a lease; rejects with PoolTimeoutError at `deadline` (epoch ms). */
  wait(fn: PoolFunction, deadline: number): Promise<L> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter<L> = {
        fn,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.remove(waiter);
          reject(new PoolTimeoutError(`the invocation waited for a container of ${fn.name} past its deadline`));
        }, Math.max(0, Math.min(deadline - Date.now(), MAX_TIMER_MS))),
      };
      this.waiters.push(waiter);
    });
  }

  /**
   * Offers capacity to the waiters, oldest first: `tryLease` answers a lease for a waiter's
   * function, or undefined when that function cannot proceed now (the waiter keeps its place).
   */
  serve(tryLease: (fn: PoolFunction) => Promise<L> | undefined): void {
    for (let i = 0; i < this.waiters.length; ) {
      const waiter = this.waiters[i]!;
      const lease = tryLease(waiter.fn);
      if (!lease) {
        i++;
        continue;
      }
      this.waiters.splice(i, 1);
      clearTimeout(waiter.timer);
      lease.then(waiter.resolve, waiter.reject);
    }
  }

  /** Rejects the waiters of one function (it was removed). */
  rejectFunction(name: string, err: Error): void {
    for (const waiter of this.waiters.filter((w) => w.fn.name === name)) {
      this.remove(waiter);
      clearTimeout(waiter.timer);
      waiter.reject(err);
    }
  }

  /** Rejects every waiter (shutdown). */
  drain(err: Error): void {
    for (const waiter of this.waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(err);
    }
  }

  private remove(waiter: Waiter<L>): void {
    const i = this.waiters.indexOf(waiter);
    if (i !== -1) this.waiters.splice(i, 1);
  }
}
