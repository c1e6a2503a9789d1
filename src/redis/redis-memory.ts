import type { Redis } from 'ioredis';

export interface RedisMemoryOptions {
  /** How often INFO memory is read (default 1 s). */
  intervalMs?: number;
  /** Share of maxmemory from which Redis counts as nearly full (default 0.99). */
  nearlyFullAt?: number;
}

/** used_memory and maxmemory from an INFO memory reply; maxmemory 0 means no limit. */
export function memoryFigures(info: string): { used: number; max: number } | undefined {
  const used = /^used_memory:(\d+)/m.exec(info);
  const max = /^maxmemory:(\d+)/m.exec(info);
  return used && max ? { used: Number(used[1]), max: Number(max[1]) } : undefined;
}

/**
 * Whether Redis is close to its `maxmemory` (policy noeviction: past it, it refuses writes), read
 * from INFO memory every second. Work whose record is written only after it ran (a direct call,
 * an HTTP trigger request served here) asks before it runs, so it takes the queue, whose write
 * fails or succeeds up front, instead of answering and then losing its record. A failed write
 * says so too, later (RecordWriter.redisFull); this says it before the first one fails.
 */
export class RedisMemoryWatch {
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<void> | undefined;
  private full = false;
  private closed = false;
  private readonly nearlyFullAt: number;

  constructor(private readonly redis: Redis, private readonly opts: RedisMemoryOptions = {}) {
    this.nearlyFullAt = opts.nearlyFullAt ?? 0.99;
  }

  get nearlyFull(): boolean {
    return this.full;
  }

  /** Reads now and every interval, one reading at a time. Never waits: an unreachable Redis must not hold up a start. */
  start(): void {
    this.poll();
    this.timer = setInterval(() => this.poll(), this.opts.intervalMs ?? 1000);
    this.timer.unref();
  }

  /**
   * Stops reading. A reading in flight is not waited for: on the shared connection it waits for
   * Redis through an outage, and it only sets a flag (the connection's own close ends it).
   */
  close(): void {
    this.closed = true;
    clearInterval(this.timer);
  }

  private poll(): void {
    if (this.closed || this.reading) return;
    this.reading = this.read().finally(() => {
      this.reading = undefined;
    });
  }

  private async read(): Promise<void> {
    try {
      const figures = memoryFigures(await this.redis.info('memory'));
      if (!this.closed) this.full = figures !== undefined && figures.max > 0 && figures.used >= figures.max * this.nearlyFullAt;
    } catch {
      // Unreachable: RedisHealth says so; the last reading stands.
    }
  }
}
