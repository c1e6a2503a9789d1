import type { Redis } from 'ioredis';
import { queueNameFor } from './invocation.ts';
import type { LaneWorker } from './lane-worker.ts';

/** Sorted set: function name → when a node last took a job of it (epoch ms). Shared by every node. */
export function activeKey(prefix: string): string {
  return `${prefix}:dispatch:active`;
}

/** How long a function stays watched after its last take, at least (and for as long as jobs are active). */
const WATCH_MS = 60_000;

/** Forgets a function only if no job of it is active, atomically against a take on another node. */
const PRUNE = `
if redis.call('LLEN', KEYS[2]) > 0 then return 0 end
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if s and tonumber(s) < tonumber(ARGV[2]) then redis.call('ZREM', KEYS[1], ARGV[1]) return 1 end
return 0`;

/**
 * BullMQ's stalled check for manually fetched jobs, once per node rather than once per queue: a
 * job whose node died keeps its place in the queue's active list without a lock, and the check
 * (BullMQ's own script, run by at most one node per queue and interval) puts it back to waiting.
 * Only functions a node took a job of in the last WATCH_MS, or that still have active jobs, are
 * checked: an idle cluster sends one command per node and interval, whatever the number of
 * functions. A node marks a function before it takes a job of it, so a job is never active
 * unwatched.
 */
export class StallWatch {
  private readonly marked = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly opts: {
      intervalMs: number;
      lane: (fn: string) => LaneWorker | undefined;
      /** Jobs of the function went back to waiting. */
      onReturned: (fn: string, jobIds: string[]) => void;
      onError: (err: Error) => void;
    },
  ) {}

  /** Before a take: the function is watched (one command per function and WATCH_MS / 4). */
  async beforeTake(fn: string): Promise<void> {
    const now = Date.now();
    if (now - (this.marked.get(fn) ?? 0) < WATCH_MS / 4) return;
    await this.redis.zadd(activeKey(this.prefix), now, fn);
    this.marked.set(fn, now);
  }

  start(): void {
    this.timer = setInterval(() => {
      this.checking ??= this.check().catch((err: Error) => this.opts.onError(err)).finally(() => {
        this.checking = undefined;
      });
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  /** One round: BullMQ's stalled check on every watched function this node serves. */
  async check(): Promise<void> {
    const flat = await this.redis.zrange(activeKey(this.prefix), 0, -1, 'WITHSCORES');
    const staleBefore = Date.now() - WATCH_MS;
    for (let i = 0; i < flat.length; i += 2) {
      const fn = flat[i]!;
      const worker = this.opts.lane(fn);
      if (!worker) continue;
      const returned = (await worker.getBackend().moveStalledJobsToWait()) as string[];
      if (returned.length > 0) this.opts.onReturned(fn, returned);
      if (Number(flat[i + 1]) < staleBefore) {
        await this.redis.eval(PRUNE, 2, activeKey(this.prefix), `${this.prefix}:${queueNameFor(fn)}:active`, fn, staleBefore);
      }
    }
  }

  forget(fn: string): void {
    this.marked.delete(fn);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.checking;
  }
}
