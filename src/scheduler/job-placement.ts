import type { DispatchLane } from './dispatch-lane.ts';
import type { LocalWarmth } from './local-warmth.ts';
import { takeAt } from './placement.ts';
import type { WarmDirectory } from './warm-directory.ts';
import type { WorkSignal } from './work-signal.ts';

/**
 * Warm-aware placement as one node applies it: from this node's warm containers, what the
 * other nodes announced, and the age of the job next in line, when this node should take a
 * function's work.
 */
export class JobPlacement {
  constructor(private readonly deps: { signal: WorkSignal; directory: WarmDirectory; warmth: LocalWarmth; coldStartDelayMs: number }) {}

  /** When this node should take a job of the function found or announced at `now` (see takeAt). */
  at(fn: string, now: number): number {
    return takeAt({
      warmHere: this.deps.warmth.current().idle.has(fn),
      warmElsewhere: this.deps.directory.warmElsewhere(fn),
      announcedAt: now,
      coldStartDelayMs: this.deps.coldStartDelayMs,
    });
  }

  /**
   * Without an idle warm container here while another node has warm ones, the job next in line
   * is left to that node until it has waited the cold-start delay. The check is on the job's own
   * age, not on when this node heard of it: the delay a wake-up started may end just as the next
   * job of a steady stream arrives, and a sweep may land on a job queued a moment ago; taking
   * those would cost a cold start each. Costs one command, and only on a node that is cold.
   */
  async leaveToWarmNode(lane: DispatchLane): Promise<boolean> {
    const now = Date.now();
    if (this.at(lane.fn, now) <= now) return false;
    const queuedAt = await this.deps.signal.oldestWaitingAt(lane.fn);
    lane.ready = false;
    if (queuedAt === 0) {
      // Nothing waits: taking now would grab the next job of the stream the moment it arrives.
      // Its wake-up (or a sweep) brings this node back, and a delayed job's due time too.
      const due = await this.deps.signal.settle(lane.fn);
      if (due === -1) lane.readyAt(Date.now() + this.deps.coldStartDelayMs);
      else if (due > 0) lane.readyAt(due);
      return true;
    }
    // Capped: the job's time comes from the producing node's clock, which may run ahead.
    const at = Math.min(queuedAt, now) + this.deps.coldStartDelayMs;
    if (at <= now) {
      lane.ready = true;
      return false;
    }
    lane.readyAt(at);
    return true;
  }
}
