import type { ChainableCommander, Redis } from 'ioredis';
import type { LogEntry } from './invocation.ts';
import { isFinished, type InvocationRecord } from './invocation-record.ts';

/** Function-wide log queries look at this many recent invocations at most. */
const RECENT_PER_FUNCTION = 2000;

/**
 * Invocation records in Redis, each with a TTL (HEARTH_RESULT_TTL_S): the record itself, the
 * event (kept so a dead letter can be retried) and the captured logs (already capped per
 * invocation by the runtime). Per function, a sorted set of recent ids (by finish time) serves
 * `GET /v1/functions/:name/logs` and another the dead letters.
 */
export class InvocationStore {
  constructor(
    private readonly redis: Redis,
    readonly ttlS: number,
    private readonly prefix = 'hearth',
  ) {}

  private key(id: string, part?: 'event' | 'logs'): string {
    return `${this.prefix}:inv:${id}${part ? `:${part}` : ''}`;
  }

  private recentKey(fn: string): string {
    return `${this.prefix}:fn:${fn}:recent`;
  }

  private deadKey(fn: string): string {
    return `${this.prefix}:fn:${fn}:dead`;
  }

  private idemKey(fn: string, key: string): string {
    return `${this.prefix}:idem:${fn}:${key}`;
  }

  /** Claims an Idempotency-Key for `id`; returns the id that already holds it, if any. */
  async claimIdempotencyKey(fn: string, key: string, id: string, ttlS = 24 * 3600): Promise<string | undefined> {
    const k = this.idemKey(fn, key);
    const set = await this.redis.set(k, id, 'EX', ttlS, 'NX');
    if (set === 'OK') return undefined;
    const existing = await this.redis.get(k);
    // Expired between the two calls: try once more.
    if (existing === null) return (await this.redis.set(k, id, 'EX', ttlS, 'NX')) === 'OK' ? undefined : ((await this.redis.get(k)) ?? undefined);
    return existing;
  }

  async releaseIdempotencyKey(fn: string, key: string): Promise<void> {
    await this.redis.del(this.idemKey(fn, key));
  }

  /** Writes a new record (and its event) before the job is queued, so an accepted id is never a 404. */
  async create(record: InvocationRecord, event: unknown): Promise<void> {
    await this.redis
      .multi()
      .set(this.key(record.id), JSON.stringify(record), 'EX', this.ttlS)
      .set(this.key(record.id, 'event'), JSON.stringify(event ?? null), 'EX', this.ttlS)
      .exec();
  }

  async get(id: string): Promise<InvocationRecord | undefined> {
    const raw = await this.redis.get(this.key(id));
    return raw ? (JSON.parse(raw) as InvocationRecord) : undefined;
  }

  async getEvent(id: string): Promise<unknown> {
    const raw = await this.redis.get(this.key(id, 'event'));
    return raw === null ? undefined : (JSON.parse(raw) as unknown);
  }

  async getLogs(id: string): Promise<LogEntry[]> {
    const raw = await this.redis.get(this.key(id, 'logs'));
    return raw ? (JSON.parse(raw) as LogEntry[]) : [];
  }

  /** Replaces the record; with `logs`, appends them (an earlier attempt's lines stay). */
  async put(record: InvocationRecord, logs?: LogEntry[]): Promise<void> {
    const previous = logs && logs.length > 0 && record.attempts > 1 ? await this.getLogs(record.id) : [];
    const tx = this.redis.multi();
    this.addPut(tx, record, logs && logs.length > 0 ? [...previous, ...logs] : undefined);
    await tx.exec();
  }

  /**
   * Writes finished first attempts (no earlier logs to keep, never a dead letter before) in one
   * pipelined round trip: per record its value, logs and place among the recent ones; each
   * function's recent list is trimmed once per batch. Throws the first failure after all were tried.
   */
  async putMany(entries: { record: InvocationRecord; logs?: LogEntry[] }[]): Promise<void> {
    if (entries.length === 0) return;
    const pipeline = this.redis.pipeline();
    const functions = new Set<string>();
    for (const { record, logs } of entries) {
      if (!isFinished(record) || record.deadLetter) {
        this.addPut(pipeline, record, logs && logs.length > 0 ? logs : undefined);
        continue;
      }
      pipeline.set(this.key(record.id), JSON.stringify(record), 'EX', this.ttlS);
      if (logs && logs.length > 0) pipeline.set(this.key(record.id, 'logs'), JSON.stringify(logs), 'EX', this.ttlS);
      pipeline.zadd(this.recentKey(record.function), record.finishedAt ? Date.parse(record.finishedAt) : Date.now(), record.id);
      functions.add(record.function);
    }
    for (const fn of functions) {
      pipeline.zremrangebyrank(this.recentKey(fn), 0, -RECENT_PER_FUNCTION - 1).expire(this.recentKey(fn), this.ttlS);
    }
    const replies = await pipeline.exec();
    const failed = replies?.find(([err]) => err);
    if (failed) throw failed[0];
  }

  private addPut(tx: ChainableCommander, record: InvocationRecord, logs: LogEntry[] | undefined): void {
    tx.set(this.key(record.id), JSON.stringify(record), 'EX', this.ttlS);
    if (logs) tx.set(this.key(record.id, 'logs'), JSON.stringify(logs), 'EX', this.ttlS);
    if (isFinished(record)) {
      const at = record.finishedAt ? Date.parse(record.finishedAt) : Date.now();
      tx.zadd(this.recentKey(record.function), at, record.id)
        .zremrangebyrank(this.recentKey(record.function), 0, -RECENT_PER_FUNCTION - 1)
        .expire(this.recentKey(record.function), this.ttlS);
      if (record.deadLetter) tx.zadd(this.deadKey(record.function), at, record.id).expire(this.deadKey(record.function), this.ttlS);
      else tx.zrem(this.deadKey(record.function), record.id);
    }
  }

  /** Applies `change` to the current record, if it still exists. */
  async update(id: string, change: (r: InvocationRecord) => InvocationRecord | undefined): Promise<InvocationRecord | undefined> {
    const current = await this.get(id);
    if (!current) return undefined;
    const next = change(current);
    if (next) await this.put(next);
    return next;
  }

  /** Dead letters of a function, newest first; ids whose record expired are pruned. */
  async deadLetters(fn: string, limit = 100): Promise<InvocationRecord[]> {
    const ids = await this.redis.zrevrange(this.deadKey(fn), 0, limit - 1);
    const records = await this.many(ids);
    const gone = ids.filter((_, i) => !records[i] || !records[i]!.deadLetter);
    if (gone.length) await this.redis.zrem(this.deadKey(fn), ...gone);
    return records.filter((r): r is InvocationRecord => r !== undefined && r.deadLetter === true);
  }

  async removeFromDeadLetters(record: InvocationRecord): Promise<void> {
    await this.redis.zrem(this.deadKey(record.function), record.id);
  }

  /**
   * Log lines of a function's invocations that finished at or after `since` (epoch ms), oldest
   * first, each tagged with its invocation id; at most `limit` lines.
   */
  async functionLogs(fn: string, since: number, limit: number): Promise<(LogEntry & { invocationId: string })[]> {
    const ids = await this.redis.zrangebyscore(this.recentKey(fn), since, '+inf', 'LIMIT', 0, RECENT_PER_FUNCTION);
    const out: (LogEntry & { invocationId: string })[] = [];
    for (let i = 0; i < ids.length && out.length < limit; i += 100) {
      const batch = ids.slice(i, i + 100);
      const raws = await this.redis.mget(batch.map((id) => this.key(id, 'logs')));
      batch.forEach((id, j) => {
        const raw = raws[j];
        if (!raw) return;
        for (const entry of JSON.parse(raw) as LogEntry[]) {
          if (entry.time >= since) out.push({ invocationId: id, ...entry });
        }
      });
    }
    out.sort((a, b) => a.time - b.time);
    return out.slice(0, limit);
  }

  private async many(ids: string[]): Promise<(InvocationRecord | undefined)[]> {
    if (ids.length === 0) return [];
    const raws = await this.redis.mget(ids.map((id) => this.key(id)));
    return raws.map((raw) => (raw ? (JSON.parse(raw) as InvocationRecord) : undefined));
  }

  /** Drops a removed function's indexes (records expire on their own). */
  async forgetFunction(fn: string): Promise<void> {
    await this.redis.del(this.recentKey(fn), this.deadKey(fn));
  }
}
