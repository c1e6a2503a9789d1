import { CronExpressionParser } from 'cron-parser';
import type { Redis } from 'ioredis';
import { HearthError } from '../errors/index.ts';
import { SCHEDULE_ID, type FunctionConfig } from '../config/index.ts';
import type { InvocationProducer } from './producer.ts';
import type { ScheduledJobData } from './invocation.ts';

export interface ScheduleSpec {
  id: string;
  cron: string;
  tz?: string;
  event?: unknown;
}

export interface ScheduleInfo extends ScheduleSpec {
  /** Where it was declared: `schedules` in the function config, or the schedules API. */
  source: 'config' | 'api';
  /** Next planned run (ISO), if BullMQ has one. */
  next?: string;
}

type Stored = Omit<ScheduleInfo, 'next'> & { retries: FunctionConfig['retries'] };

/** Throws invalid_request for a cron pattern or time zone BullMQ could not run. */
export function validateSchedule(spec: ScheduleSpec): void {
  if (!SCHEDULE_ID.test(spec.id)) throw new HearthError('invalid_request', `schedule id ${JSON.stringify(spec.id)} must be 1-64 chars of a-z, A-Z, 0-9, "_" and "-"`);
  try {
    CronExpressionParser.parse(spec.cron, spec.tz ? { tz: spec.tz } : {}).next();
  } catch (err) {
    throw new HearthError('invalid_request', `schedule ${spec.id}: invalid cron ${JSON.stringify(spec.cron)}${spec.tz ? ` in ${spec.tz}` : ''}: ${(err as Error).message}`);
  }
}

/**
 * A function's schedules as BullMQ Job Schedulers on its own queue: the scheduler lives in Redis,
 * so schedules survive restarts, and each tick is one job with a deterministic id
 * (`repeat:<id>:<millis>`), so any number of Hearth processes on the same Redis run it once.
 * A small hash per function (`<p>:fn:<name>:schedules`) remembers what was declared, and where.
 */
export class ScheduleService {
  constructor(
    private readonly redis: Redis,
    private readonly producer: InvocationProducer,
    private readonly prefix = 'hearth',
  ) {}

  private key(fn: string): string {
    return `${this.prefix}:fn:${fn}:schedules`;
  }

  /** Creates or replaces one schedule. Unchanged declarations are left alone (no re-upsert on every start). */
  async put(fn: string, spec: ScheduleSpec, source: ScheduleInfo['source'], retries: FunctionConfig['retries']): Promise<ScheduleInfo> {
    validateSchedule(spec);
    const stored: Stored = { id: spec.id, cron: spec.cron, ...(spec.tz ? { tz: spec.tz } : {}), event: spec.event ?? null, source, retries };
    const raw = JSON.stringify(stored);
    const queue = this.producer.queue(fn);
    const current = await this.redis.hget(this.key(fn), spec.id);
    if (current !== raw || !(await queue.getJobScheduler(spec.id))) {
      const data: ScheduledJobData = { function: fn, event: stored.event, scheduleId: spec.id, trigger: 'schedule' };
      await queue.upsertJobScheduler(
        spec.id,
        { pattern: spec.cron, ...(spec.tz ? { tz: spec.tz } : {}) },
        {
          name: 'invoke',
          data: data as never, // the worker completes a template's data per tick (see invocationIdOf)
          opts: {
            removeOnComplete: { age: 3600, count: 1000 },
            removeOnFail: { age: 24 * 3600, count: 5000 },
            ...(retries.attempts > 0 ? { attempts: retries.attempts + 1, backoff: { type: 'exponential', delay: retries.backoffMs } } : {}),
          },
        },
      );
      await this.redis.hset(this.key(fn), spec.id, raw);
      // The first tick waits in the delayed set: a dispatcher that looks learns when it is due.
      await this.producer.workAdded(fn);
    }
    return this.describe(fn, stored);
  }

  async get(fn: string, id: string): Promise<ScheduleInfo | undefined> {
    const raw = await this.redis.hget(this.key(fn), id);
    return raw ? this.describe(fn, JSON.parse(raw) as Stored) : undefined;
  }

  async list(fn: string): Promise<ScheduleInfo[]> {
    const all = await this.redis.hgetall(this.key(fn));
    const infos = await Promise.all(Object.values(all).map((raw) => this.describe(fn, JSON.parse(raw) as Stored)));
    return infos.sort((a, b) => a.id.localeCompare(b.id));
  }

  async remove(fn: string, id: string): Promise<boolean> {
    const existed = (await this.redis.hdel(this.key(fn), id)) > 0;
    const removed = await this.producer.queue(fn).removeJobScheduler(id);
    return existed || removed;
  }

  /**
   * After a deploy: config schedules are upserted, config schedules no longer declared are removed,
   * API schedules stay (and pick up the new retry policy).
   */
  async sync(fn: string, config: FunctionConfig): Promise<void> {
    for (const s of config.schedules) validateSchedule(s);
    const declared = new Set(config.schedules.map((s) => s.id));
    for (const existing of await this.list(fn)) {
      if (declared.has(existing.id)) continue;
      if (existing.source === 'config') await this.remove(fn, existing.id);
      else await this.put(fn, existing, 'api', config.retries);
    }
    for (const s of config.schedules) await this.put(fn, s, 'config', config.retries);
  }

  /** Removes every schedule of a function (it is being removed). */
  async removeAll(fn: string): Promise<void> {
    for (const id of await this.redis.hkeys(this.key(fn))) await this.producer.queue(fn).removeJobScheduler(id);
    await this.redis.del(this.key(fn));
  }

  private async describe(fn: string, stored: Stored): Promise<ScheduleInfo> {
    const scheduler = await this.producer.queue(fn).getJobScheduler(stored.id).catch(() => undefined);
    const { retries: _retries, ...info } = stored;
    return { ...info, ...(scheduler?.next ? { next: new Date(scheduler.next).toISOString() } : {}) };
  }
}
