import type { Redis } from 'ioredis';
import { queueNameFor } from './invocation.ts';

/** Sorted set: function name → when work of it may next be runnable (epoch ms). Shared by every node. */
export function dueKey(prefix: string): string {
  return `${prefix}:dispatch:due`;
}

/** Pub/sub channel: a function's name each time a job of it was queued. */
export function wakeChannel(prefix: string): string {
  return `${prefix}:dispatch:wake`;
}

/**
 * Atomically, against producers: a function whose queue holds waiting jobs stays due; one with only
 * delayed jobs (retries after a backoff, schedule ticks) becomes due when the first of them is;
 * one with neither leaves the index. Returns -1 (jobs waiting), the next due time, or 0.
 * BullMQ scores delayed jobs as timestamp × 0x1000 + a sequence.
 */
const SETTLE = `
if redis.call('LLEN', KEYS[2]) > 0 or redis.call('ZCARD', KEYS[3]) > 0 then return -1 end
local first = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
if first[2] then
  local at = math.floor(tonumber(first[2]) / 0x1000)
  redis.call('ZADD', KEYS[1], at, ARGV[1])
  return at
end
redis.call('ZREM', KEYS[1], ARGV[1])
return 0`;

/**
 * When the job next in line in a queue's wait list was added (epoch ms; BullMQ pushes new jobs
 * on the left and takes from the right), 1 (long ago) for prioritized jobs, or 0 when none
 * waits. ARGV[1] is the queue's key prefix.
 */
const OLDEST_WAITING = `
local id = redis.call('LINDEX', KEYS[1], -1)
if not id then
  if redis.call('ZCARD', KEYS[2]) > 0 then return 1 end
  return 0
end
return tonumber(redis.call('HGET', ARGV[1] .. id, 'timestamp')) or 1`;

/** How many due functions one sweep reads; the rest come in the next sweeps. */
const SWEEP_BATCH = 500;

/**
 * The node-wide signal that replaces a blocking connection per queue: a producer marks the
 * function due and publishes its name; every node hears it on the one subscriber connection it
 * has anyway. The due index is the safety net for what pub/sub cannot carry: a message missed
 * during a reconnect, a delayed retry or a schedule tick whose node died, jobs of a node that died
 * (returned to waiting by the stalled check). A node reads it with one command per sweep.
 */
export class WorkSignal {
  constructor(private readonly redis: Redis, private readonly prefix = 'hearth') {}

  /** After a job was added (or a schedule set up): every node looks at the function's queue. */
  async workAdded(functionName: string): Promise<void> {
    await this.redis
      .pipeline()
      .zadd(dueKey(this.prefix), Date.now(), functionName)
      .publish(wakeChannel(this.prefix), functionName)
      .exec()
      // The job is in Redis already: the sweep after the reconnect finds it.
      .catch(() => undefined);
  }

  /** Functions whose work is due now, earliest first. */
  async dueNow(): Promise<string[]> {
    return this.redis.zrangebyscore(dueKey(this.prefix), '-inf', Date.now(), 'LIMIT', 0, SWEEP_BATCH);
  }

  /** After a fetch found the queue empty: see SETTLE. */
  async settle(functionName: string): Promise<number> {
    const q = `${this.prefix}:${queueNameFor(functionName)}`;
    const result = await this.redis.eval(SETTLE, 4, dueKey(this.prefix), `${q}:wait`, `${q}:prioritized`, `${q}:delayed`, functionName);
    return Number(result);
  }

  /** When the job a fetch would take now was queued (epoch ms), or 0 when none waits. */
  async oldestWaitingAt(functionName: string): Promise<number> {
    const q = `${this.prefix}:${queueNameFor(functionName)}`;
    return Number(await this.redis.eval(OLDEST_WAITING, 2, `${q}:wait`, `${q}:prioritized`, `${q}:`));
  }

  /** A removed function's entry. */
  async forget(functionName: string): Promise<void> {
    await this.redis.zrem(dueKey(this.prefix), functionName);
  }
}
