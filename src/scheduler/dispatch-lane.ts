import type { LaneWorker } from './lane-worker.ts';

/**
 * One function's queue as this node serves it: how many of its jobs run here, whether the queue
 * may hold waiting work, and the timer that makes it worth a look later. It owns only this state;
 * the dispatcher decides when to fetch. `wake` asks the dispatcher for a pass.
 */
export class DispatchLane {
  /** Jobs of the function running here now. */
  inFlight = 0;
  /** The queue may hold waiting jobs: the next pass fetches from it. */
  ready = true; // jobs may be waiting from before this node knew the function
  /**
   * Nobody said there is work (start, sweep, reconnect, after an error): the next pass looks
   * before it takes, so an empty queue costs one command and does not get stalled-checked.
   */
  probe = true;
  removed = false;
  /** The slots running this function's jobs here (each runs one job, then the next it fetched). */
  readonly runs = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = 0;

  constructor(
    readonly fn: string,
    readonly worker: LaneWorker,
    /** maxContainers × concurrency: jobs of the function this node runs at once. */
    public limit: number,
    private readonly wake: () => void,
  ) {}

  /**
   * Ready, still served, and below its limit here. `busyHere`: invocations of the function the
   * pool runs now, counting those that reached it without this lane (the HTTP trigger).
   */
  canTake(busyHere = 0): boolean {
    return this.ready && !this.removed && Math.max(this.inFlight, busyHere) < this.limit;
  }

  /** To be looked at (not taken from blindly) in the next pass. */
  probeSoon(): void {
    if (this.ready) return;
    this.ready = true;
    this.probe = true;
  }

  /** To be tried at `at` (epoch ms), or now if that has passed; `probe`: look before taking. */
  readyAt(at: number, probe = false): void {
    const delay = at - Date.now();
    if (delay <= 0) {
      this.becomeReady(probe);
      return;
    }
    if (this.timer && this.timerAt <= at) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.becomeReady(probe);
    }, delay);
    this.timer.unref();
  }

  /** No more timed wake-ups (removed, or the node is closing). */
  stopTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private becomeReady(probe: boolean): void {
    if (probe) this.probeSoon();
    else {
      this.ready = true;
      this.probe = false;
    }
    this.wake();
  }
}
