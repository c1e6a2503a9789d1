import { describe, expect, it, vi } from 'vitest';
import { DispatchLane } from '../../src/scheduler/dispatch-lane.ts';
import type { LaneWorker } from '../../src/scheduler/lane-worker.ts';

const worker = {} as LaneWorker;

describe('a dispatch lane', () => {
  it('starts ready and probing, and takes up to its limit', () => {
    const lane = new DispatchLane('f', worker, 2, () => undefined);
    expect([lane.ready, lane.probe, lane.canTake()]).toEqual([true, true, true]);
    lane.inFlight = 2;
    expect(lane.canTake()).toBe(false);
    lane.inFlight = 1;
    lane.removed = true;
    expect(lane.canTake()).toBe(false);
  });

  it('a time already passed makes it ready at once and asks for a pass', () => {
    const wake = vi.fn();
    const lane = new DispatchLane('f', worker, 1, wake);
    lane.ready = false;
    lane.readyAt(Date.now() - 1);
    expect([lane.ready, lane.probe]).toEqual([true, false]);
    expect(wake).toHaveBeenCalledTimes(1);
  });

  it('a later time waits; an earlier one replaces it, a later one does not', () => {
    vi.useFakeTimers();
    try {
      const wake = vi.fn();
      const lane = new DispatchLane('f', worker, 1, wake);
      lane.ready = false;
      lane.readyAt(Date.now() + 100, true);
      lane.readyAt(Date.now() + 500);
      vi.advanceTimersByTime(99);
      expect(wake).not.toHaveBeenCalled();
      vi.advanceTimersByTime(1);
      expect(wake).toHaveBeenCalledTimes(1);
      expect([lane.ready, lane.probe]).toEqual([true, true]);
      lane.ready = false;
      lane.readyAt(Date.now() + 100);
      lane.stopTimer();
      vi.advanceTimersByTime(1_000);
      expect(wake).toHaveBeenCalledTimes(1);
      expect(lane.ready).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });

  it('probeSoon leaves a lane that is ready as it is', () => {
    const lane = new DispatchLane('f', worker, 1, () => undefined);
    lane.probe = false;
    lane.probeSoon();
    expect(lane.probe).toBe(false);
    lane.ready = false;
    lane.probeSoon();
    expect([lane.ready, lane.probe]).toEqual([true, true]);
  });
});
