import type { Capacity } from './capacity.ts';
import type { PoolFunction, PooledContainer } from './pooled-container.ts';

export interface WarmKeeperDeps {
  capacity: Capacity;
  /**
   * Starts one container of `fn` for nobody in particular. It must be held by `capacity` when
   * this returns (before the start completes), so the next fit check counts it.
   */
  startWarm: (fn: PoolFunction) => void;
  destroy: (pooled: PooledContainer, reason: string) => Promise<void>;
  /** How often top-up and reaping run; idle timeouts are honoured to this precision. */
  intervalMs: number;
}

/**
 * Keeps `minWarm` containers of each function's current version started, and reaps containers
 * idle past their function's `idleTimeoutMs`, never below `minWarm`. Top-up stays within the
 * limits and never evicts: a prewarmed container is not worth more than a running one.
 */
export class WarmKeeper {
  /** Functions with minWarm > 0, at their current version. */
  private readonly targets = new Map<string, PoolFunction>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly deps: WarmKeeperDeps) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.deps.intervalMs);
    this.timer.unref();
  }

  /** Keeps `fn.config.minWarm` of this version; minWarm 0 drops the function's target. */
  setTarget(fn: PoolFunction): void {
    if (fn.config.minWarm > 0) this.targets.set(fn.name, fn);
    else this.targets.delete(fn.name);
  }

  dropTarget(name: string): void {
    this.targets.delete(name);
  }

  /** Starts containers for the targets within the per-function and global limits. */
  topUp(): void {
    if (this.closed) return;
    const { capacity } = this.deps;
    for (const fn of this.targets.values()) {
      const current = capacity.containersOf(fn.name).filter((p) => p.fn.version === fn.version && !p.retiring).length;
      const want = Math.min(fn.config.minWarm - current, fn.config.maxContainers - capacity.liveCount(fn.name));
      for (let i = 0; i < want && capacity.fits(fn.config.memoryMb); i++) this.deps.startWarm(fn);
    }
  }

  /**
   * Containers idle for at least their function's idleTimeoutMs at `now`, except the most
   * recently used minWarm of each target's current version, which stay however long they idle.
   */
  idleVictims(now: number): PooledContainer[] {
    const doomed: PooledContainer[] = [];
    for (const group of this.deps.capacity.groups()) {
      const sorted = group.sort((a, b) => b.idleSince - a.idleSince);
      let kept = 0;
      for (const pooled of sorted) {
        const target = this.targets.get(pooled.fn.name);
        if (target !== undefined && target.version === pooled.fn.version && !pooled.retiring && kept < target.config.minWarm) {
          kept++;
          continue;
        }
        if (pooled.isIdle() && now - pooled.idleSince >= pooled.fn.config.idleTimeoutMs) doomed.push(pooled);
      }
    }
    return doomed;
  }

  async reapIdle(): Promise<void> {
    await Promise.all(this.idleVictims(Date.now()).map((p) => this.deps.destroy(p, 'idle timeout')));
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    this.topUp();
    await this.reapIdle();
  }
}
