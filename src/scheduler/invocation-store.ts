import type { ChainableCommander, Redis } from 'ioredis';
import type { LogEntry } from './invocation.ts';
import { isoTime } from '../log/index.ts';
import { isFinished, type AttemptStart, type InvocationRecord } from './invocation-record.ts';
import { capFor, retentionClassOf, retentionFrom, ttlFor, type RecordRetention, type RetentionClass } from './record-retention.ts';
import { defineRecordScripts, putFinished, startAttempt, trimRecords, type FinishedEntry } from './record-scripts.ts';

/** Function-wide log queries look at this many recent invocations at most. */
const RECENT_PER_FUNCTION = 2000;

/**
 * Invocation records in Redis: the record itself, the event (kept so a dead letter can be
 * retried) and the captured logs (already capped per invocation by the runtime), each with the TTL
 * of its retention class (sync briefly, async and scheduled a day). Per function and class, a
 * sorted set of finished ids (by finish time) serves `GET /v1/functions/:name/logs` and is trimmed
 * to the class's cap on every write, deleting the records that fall off; another holds the dead
 * letters.
 */
export class InvocationStore {
  readonly retention: RecordRetention;

  /** `retention`: a number is one TTL (seconds) for every record, with the default caps. */
  constructor(
    private readonly redis: Redis,
    retention: number | Partial<RecordRetention>,
    private readonly prefix = 'hearth',
  ) {
    this.retention = retentionFrom(retention);
    defineRecordScripts(redis);
  }

  /** TTL of async and scheduled records (seconds). */
  get ttlS(): number {
    return this.retention.ttlS;
  }

  private key(id: string, part?: 'event' | 'logs'): string {
    return `${this.prefix}:inv:${id}${part ? `:${part}` : ''}`;
  }

  private recentKey(fn: string, cls: RetentionClass = 'kept'): string {
    return `${this.prefix}:fn:${fn}:recent${cls === 'sync' ? ':sync' : ''}`;
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
    await this.createMany([{ record, event }]);
  }

  /** New records and their events in one MULTI (async submissions, group-committed). */
  async createMany(entries: { record: InvocationRecord; event: unknown }[]): Promise<void> {
    const tx = this.redis.multi();
    for (const { record, event } of entries) {
      const ttl = ttlFor(this.retention, record.trigger);
      tx.set(this.key(record.id), JSON.stringify(record), 'EX', ttl).set(this.key(record.id, 'event'), JSON.stringify(event ?? null), 'EX', ttl);
    }
    await tx.exec();
  }

  /** Deletes records whose jobs never made it into the queue (their callers got an error, not an id). */
  async discardMany(ids: string[]): Promise<void> {
    await this.redis.del(...ids.flatMap((id) => [this.key(id), this.key(id, 'event')]));
  }

  async get(id: string): Promise<InvocationRecord | undefined> {
    const raw = await this.redis.get(this.key(id));
    return raw ? (JSON.parse(raw) as InvocationRecord) : undefined;
  }

  /**
   * Marks an existing record running for the attempt that starts (see `attemptStarted`), in one
   * round trip. `finished`: it had ended already (a duplicate delivery), left as it was.
   * Undefined: there is no record.
   */
  async startAttempt(id: string, start: AttemptStart): Promise<{ running: InvocationRecord } | { finished: InvocationRecord } | undefined> {
    const reply = await startAttempt(this.redis, this.key(id), {
      attempt: start.attempt,
      maxAttempts: start.maxAttempts,
      startedAt: isoTime(start.startedAt),
      redeliveries: start.redeliveries ?? 0,
      node: start.node ?? '',
    });
    if (!reply) return undefined;
    const record = JSON.parse(reply.json) as InvocationRecord;
    return reply.state === 'finished' ? { finished: record } : { running: record };
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
   * Writes records of first attempts (no earlier logs to keep) in one pipelined round trip: how
   * direct sync calls' records leave the hot path in batches. Finished records that are no dead
   * letters (nearly all) go by one script call per function index, which writes each value, its
   * logs and its place in the index, then trims the index and renews its expiry once per batch,
   * not once per record; the rest are written as `put` writes them. Throws the first failure
   * after all were tried.
   */
  async putMany(entries: { record: InvocationRecord; logs?: LogEntry[] }[]): Promise<void> {
    if (entries.length === 0) return;
    const pipeline = this.redis.pipeline();
    const indexes = new Map<string, { key: string; dead: string; cap: number; ttl: number; kept: boolean; entries: FinishedEntry[] }>();
    for (const { record, logs } of entries) {
      const withLogs = logs && logs.length > 0 ? logs : undefined;
      if (!isFinished(record) || record.deadLetter) {
        this.addPut(pipeline, record, withLogs);
        continue;
      }
      const cls = retentionClassOf(record.trigger);
      const key = this.recentKey(record.function, cls);
      let index = indexes.get(key);
      if (!index) {
        index = { key, dead: this.deadKey(record.function), cap: capFor(this.retention, record.trigger), ttl: ttlFor(this.retention, record.trigger), kept: cls === 'kept', entries: [] };
        indexes.set(key, index);
      }
      const finishedAt = record.finishedAt ? Date.parse(record.finishedAt) : Date.now();
      index.entries.push([record.id, JSON.stringify(record), withLogs ? JSON.stringify(withLogs) : '', finishedAt]);
    }
    for (const index of indexes.values()) putFinished(pipeline, index, this.key(''), index.entries);
    const replies = await pipeline.exec();
    const failed = replies?.find(([err]) => err);
    if (failed) throw failed[0];
  }

  /** One record's writes: value, logs, and once finished its place in the function's trimmed index. */
  private addPut(tx: ChainableCommander, record: InvocationRecord, logs: LogEntry[] | undefined): void {
    const ttl = ttlFor(this.retention, record.trigger);
    tx.set(this.key(record.id), JSON.stringify(record), 'EX', ttl);
    if (logs) tx.set(this.key(record.id, 'logs'), JSON.stringify(logs), 'EX', ttl);
    if (isFinished(record)) {
      const at = record.finishedAt ? Date.parse(record.finishedAt) : Date.now();
      const cls = retentionClassOf(record.trigger);
      const index = this.recentKey(record.function, cls);
      const dead = this.deadKey(record.function);
      tx.zadd(index, at, record.id);
      trimRecords(tx, index, dead, capFor(this.retention, record.trigger), this.key(''));
      tx.expire(index, ttl);
      if (record.deadLetter) tx.zadd(dead, at, record.id).expire(dead, ttl);
      else if (cls === 'kept') tx.zrem(dead, record.id);
    }
  }

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
    const [kept, sync] = await Promise.all((['kept', 'sync'] as const).map((cls) =>
      this.redis.zrangebyscore(this.recentKey(fn, cls), since, '+inf', 'WITHSCORES', 'LIMIT', 0, RECENT_PER_FUNCTION)));
    const ids = oldestIds([...pairs(kept!), ...pairs(sync!)], RECENT_PER_FUNCTION);
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
    await this.redis.del(this.recentKey(fn), this.recentKey(fn, 'sync'), this.deadKey(fn));
  }
}

/** [id, score, id, score, …] as ZRANGE … WITHSCORES answers, into pairs. */
function pairs(flat: string[]): [string, number][] {
  const out: [string, number][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, Number(flat[i + 1])]);
  return out;
}

/** The `limit` earliest finished ids, oldest first (both indexes merged). */
function oldestIds(scored: [string, number][], limit: number): string[] {
  return scored.sort((a, b) => a[1] - b[1]).slice(0, limit).map(([id]) => id);
}
