import { isRedisFull } from '../errors/index.ts';
import type { LogEntry } from './invocation.ts';
import type { InvocationRecord } from './invocation-record.ts';
import type { InvocationStore } from './invocation-store.ts';

interface PendingRecord {
  record: InvocationRecord;
  logs?: LogEntry[];
}

/** Someone waiting for records of a batch to be written (writeDurable). */
interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

/** A flush that Redis does not answer is given up after this; the records are lost, never the caller. */
const FLUSH_TIMEOUT_MS = 2000;
/**
 * How long a record may wait for others to share its round trip; a record is readable at most
 * this much later, and a crash of the server loses at most this much of them (the callers had
 * their answers). Each flush is a Redis write and, at appendfsync always, an fdatasync: at 5 ms a
 * sequential caller's records cost ~180 of them a second, woke Redis 0.7 times per call and took
 * 55–65 µs of its CPU per call; at 50 ms, 0.06 and 17–20 µs, and the call's p50 fell ~10 %.
 */
export const FLUSH_INTERVAL_MS = 50;
/** A batch this large goes at once. */
const MAX_BATCH = 256;

/**
 * Writes invocation records in batches: records handed over within FLUSH_INTERVAL_MS go to Redis
 * together, in one pipelined round trip (each function's recent list trimmed once per batch, not
 * once per record). `write` is for records nobody waits on (a sync caller has its answer
 * already); `writeDurable` is group commit for records that must be in Redis before the caller
 * goes on (an async attempt's end, before its job is acknowledged): it joins the next batch,
 * which then leaves at the end of this event-loop turn, and resolves or fails with that batch.
 *
 * @example
 * const writer = new RecordWriter(store, (m) => log.warn(m));
 * writer.write(record, logs);
 * await writer.writeDurable(otherRecord, logs);
 * await writer.close(); // flushes what is pending
 */
export class RecordWriter {
  private pending: PendingRecord[] = [];
  private waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;
  private soon = false;
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;
  private full = false;

  constructor(
    private readonly store: InvocationStore,
    private readonly warn: (message: string) => void = () => undefined,
  ) {}

  /**
   * The last write Redis answered was refused because Redis is full (maxmemory); the next write
   * it takes clears this. A direct call, whose record is written after its answer, must not run
   * then: it would answer 200 and lose its record (DirectDispatch leaves such calls to the queue,
   * whose write answers the caller 503 or finds room again).
   */
  get redisFull(): boolean {
    return this.full;
  }

  /** Queues a first attempt's record (and its logs) for the next flush. After close it is written at once. */
  write(record: InvocationRecord, logs?: LogEntry[]): void {
    if (this.add(record, logs)) return;
    this.timer ??= setTimeout(() => void this.flush(), FLUSH_INTERVAL_MS);
  }

  /**
   * The record in Redis when this resolves; rejects when it could not be written. A later
   * attempt's logs are appended to the earlier ones', which a batch does not do (putMany writes
   * first attempts): such a record is written on its own.
   */
  writeDurable(record: InvocationRecord, logs?: LogEntry[]): Promise<void> {
    if (record.attempts > 1 && logs && logs.length > 0) return this.store.put(record, logs);
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      if (this.add(record, logs)) return;
      // Whoever writes durably is waiting: the batch goes at the end of this turn, not after the interval.
      if (!this.soon) {
        this.soon = true;
        setImmediate(() => {
          this.soon = false;
          void this.flush();
        });
      }
    });
  }

  /** Queues the record for the next batch; true when that batch went at once (closed, or full). */
  private add(record: InvocationRecord, logs: LogEntry[] | undefined): boolean {
    this.pending.push(logs && logs.length > 0 ? { record, logs } : { record });
    if (!this.closed && this.pending.length < MAX_BATCH) return false;
    void this.flush();
    return true;
  }

  /** Writes everything pending now; resolves when that write ended (failures are reported, not thrown). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    if (batch.length === 0) return Promise.all(this.inFlight).then(() => undefined);
    this.pending = [];
    const waiters = this.waiters;
    this.waiters = [];
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer from Redis within ${FLUSH_TIMEOUT_MS} ms`)), FLUSH_TIMEOUT_MS);
    });
    const written = this.store.putMany(batch);
    // Waiters hear the write's own outcome, however long Redis takes (as a plain write would);
    // only the flush itself, which close() waits for, is bounded.
    written.then(
      () => {
        this.full = false;
        for (const w of waiters) w.resolve();
      },
      (err: Error) => {
        if (isRedisFull(err)) this.full = true;
        for (const w of waiters) w.reject(err);
      },
    );
    const write: Promise<void> = Promise.race([written, timeout])
      .catch((err: unknown) => this.warn(`writing ${batch.length} invocation records failed: ${(err as Error).message}`))
      .finally(() => {
        clearTimeout(timer);
        this.inFlight.delete(write);
      });
    this.inFlight.add(write);
    return write;
  }

  /** Flushes what is pending and waits for writes in flight (each bounded by FLUSH_TIMEOUT_MS). */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    await Promise.all(this.inFlight);
  }
}
