import { NO_WARMTH, type Warmth } from './warmth.ts';

/** How old a cached view of the pool's warmth may be. */
const WARMTH_FRESH_MS = 50;

/**
 * This node's warm containers per function, read from the pool at most every WARMTH_FRESH_MS:
 * a burst of wake-ups (one per queued job) costs one pool snapshot, not one each.
 */
export class LocalWarmth {
  private warmth: Warmth = NO_WARMTH;
  private readAt = 0;

  constructor(private readonly read: () => Warmth) {}

  /** `fresh`: read the pool now whatever the cache holds. */
  current(fresh = false): Warmth {
    const now = Date.now();
    if (fresh || now - this.readAt > WARMTH_FRESH_MS) {
      this.warmth = this.read();
      this.readAt = now;
    }
    return this.warmth;
  }

  /** A container changed state (a job just ended): the next read goes to the pool. */
  invalidate(): void {
    this.readAt = 0;
  }
}
