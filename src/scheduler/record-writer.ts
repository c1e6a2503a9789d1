import type { LogEntry } from './invocation.ts';
import type { InvocationRecord } from './invocation-record.ts';
import type { InvocationStore } from './invocation-store.ts';

interface PendingRecord {
  record: InvocationRecord;
  logs?: LogEntry[];
}

/** A flush that Redis does not answer is given up after this; the records are lost, never the caller. */
const FLUSH_TIMEOUT_MS = 2000;
/**
 * How long a record may wait for others to share its round trip. A socket write costs more than
 * the rest of a record's write together (profiled), so even a sequential caller's records are
 * gathered a few at a time; a record is readable at most this much later.
 */
export const FLUSH_INTERVAL_MS = 5;
/** A batch this large goes at once. */
const MAX_BATCH = 256;

/**
 * Writes finished invocation records off the caller's path: records handed over within
 * FLUSH_INTERVAL_MS go to Redis together, in one pipelined round trip. A caller gets its answer
 * without waiting for its record; the record is readable a few milliseconds later.
 *
 * @example
 * const writer = new RecordWriter(store, (m) => log.warn(m));
 * writer.write(record, logs);
 * await writer.close(); // flushes what is pending
 */
export class RecordWriter {
  private pending: PendingRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;

  constructor(
    private readonly store: InvocationStore,
    private readonly warn: (message: string) => void = () => undefined,
  ) {}

  /** Queues a first attempt's record (and its logs) for the next flush. After close it is written at once. */
  write(record: InvocationRecord, logs?: LogEntry[]): void {
    this.pending.push(logs && logs.length > 0 ? { record, logs } : { record });
    if (this.closed || this.pending.length >= MAX_BATCH) {
      void this.flush();
      return;
    }
    this.timer ??= setTimeout(() => void this.flush(), FLUSH_INTERVAL_MS);
  }

  /** Writes everything pending now; resolves when that write ended (failures are reported, not thrown). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    if (batch.length === 0) return Promise.all(this.inFlight).then(() => undefined);
    this.pending = [];
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer from Redis within ${FLUSH_TIMEOUT_MS} ms`)), FLUSH_TIMEOUT_MS);
    });
    const write: Promise<void> = Promise.race([this.store.putMany(batch), timeout])
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
