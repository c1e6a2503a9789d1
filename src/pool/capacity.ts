import type { PoolFunction, PooledContainer } from './pooled-container.ts';

export interface CapacityLimits {
  /** Function containers across all functions (stem cells not counted). */
  maxContainers?: number;
  /** The sum of the containers' memoryMb may not exceed this. */
  memoryBudgetMb?: number;
}

export interface Usage {
  count: number;
  memoryMb: number;
}

/**
 * Which containers the pool holds, per function, and what they use against the global limits.
 * It decides (which warm container, whether a start fits, which containers to evict) but never
 * starts or destroys anything: the caller acts on its answers.
 */
export class Capacity {
  private readonly byFunction = new Map<string, Set<PooledContainer>>();
  /** Destroyed but not gone yet: their memory still counts, so the budget is never overcommitted. */
  private readonly dying = new Set<PooledContainer>();

  constructor(readonly limits: CapacityLimits) {}

  add(pooled: PooledContainer): void {
    let group = this.byFunction.get(pooled.fn.name);
    if (!group) {
      group = new Set();
      this.byFunction.set(pooled.fn.name, group);
    }
    group.add(pooled);
  }

  /** Stops holding it; false if it was not held (already forgotten). */
  remove(pooled: PooledContainer): boolean {
    const group = this.byFunction.get(pooled.fn.name);
    if (!group?.delete(pooled)) return false;
    if (group.size === 0) this.byFunction.delete(pooled.fn.name);
    return true;
  }

  /** Stops holding it, but counts it against the limits until `gone` is called. */
  removeDying(pooled: PooledContainer): boolean {
    this.dying.add(pooled);
    return this.remove(pooled);
  }

  gone(pooled: PooledContainer): void {
    this.dying.delete(pooled);
  }

  /** Every container of `name` held now (starting, idle, busy or retiring). */
  containersOf(name: string): PooledContainer[] {
    return [...(this.byFunction.get(name) ?? [])];
  }

  all(): PooledContainer[] {
    return [...this.byFunction.values()].flatMap((g) => [...g]);
  }

  /** Held containers of every function, grouped by function. */
  groups(): PooledContainer[][] {
    return [...this.byFunction.values()].map((g) => [...g]);
  }

  /** Containers of `name` that still take work (any version). */
  liveCount(name: string): number {
    return this.containersOf(name).filter((p) => !p.retiring).length;
  }

  /** Held and dying containers together: what the global limits are checked against. */
  usage(): Usage {
    let count = 0;
    let memoryMb = 0;
    for (const p of [...this.all(), ...this.dying]) {
      count++;
      memoryMb += p.memoryMb;
    }
    return { count, memoryMb };
  }

  /** Whether one more container of `memoryMb` fits the global limits, given `freedCount`/`freedMb` about to go. */
  fits(memoryMb: number, freedCount = 0, freedMb = 0): boolean {
    const u = this.usage();
    if (this.limits.maxContainers !== undefined && u.count - freedCount + 1 > this.limits.maxContainers) return false;
    if (this.limits.memoryBudgetMb !== undefined && u.memoryMb - freedMb + memoryMb > this.limits.memoryBudgetMb) return false;
    return true;
  }

  /** The most recently used container of this exact version with a free slot: keeps the others idle so they can be reaped. */
  findWarm(fn: PoolFunction): PooledContainer | undefined {
    let best: PooledContainer | undefined;
    for (const pooled of this.byFunction.get(fn.name) ?? []) {
      if (pooled.fn.version !== fn.version || pooled.fn.digest !== fn.digest || !pooled.hasSlot()) continue;
      if (!best || pooled.idleSince > best.idleSince) best = pooled;
    }
    return best;
  }

  /** An idle container of another version of `fn`: a caller of the new version may be stuck behind it. */
  staleIdle(fn: PoolFunction): PooledContainer | undefined {
    return this.containersOf(fn.name).find((p) => p.isIdle() && p.fn.version !== fn.version);
  }

  /**
   * The idle containers of other functions (and old versions) to evict, least recently used
   * first, so that one container of `fn` fits; [] when it fits already, undefined when even
   * evicting every candidate would not be enough (then nothing should be evicted).
   */
  evictionVictims(fn: PoolFunction): PooledContainer[] | undefined {
    const candidates = this.all()
      .filter((p) => p.isIdle() && (p.fn.name !== fn.name || p.fn.version !== fn.version || p.retiring))
      .sort((a, b) => a.idleSince - b.idleSince);
    const chosen: PooledContainer[] = [];
    let freedMb = 0;
    for (const p of candidates) {
      if (this.fits(fn.config.memoryMb, chosen.length, freedMb)) break;
      chosen.push(p);
      freedMb += p.memoryMb;
    }
    return this.fits(fn.config.memoryMb, chosen.length, freedMb) ? chosen : undefined;
  }

  /** Image digests of every container held: garbage collection must not remove the layers under them. */
  liveDigests(): Set<string> {
    return new Set(this.all().map((p) => p.fn.digest));
  }

  /** Forgets every container (at shutdown) and returns them, for the caller to destroy. */
  clear(): PooledContainer[] {
    const all = this.all();
    this.byFunction.clear();
    return all;
  }
}
