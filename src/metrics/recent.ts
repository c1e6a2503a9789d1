/** One finished invocation as the dashboard shows it. */
export interface RecentInvocation {
  id: string;
  function: string;
  version: number | null;
  ok: boolean;
  /** `success` or the error code. */
  outcome: string;
  errorMessage?: string;
  durationMs: number;
  queuedMs: number;
  coldStart: boolean;
  finishedAt: number;
  logs: { time: number; stream: string; line: string }[];
}

export interface StatsBucket {
  /** Bucket start, epoch ms. */
  start: number;
  count: number;
  errors: number;
  p50: number | null;
  p99: number | null;
}

const MAX_ENTRIES = 20_000;
/** Logs are kept for the newest invocations only, each cut to a few lines: memory stays small even for chatty functions. */
const MAX_WITH_LOGS = 500;
const MAX_LOG_LINES = 200;
const MAX_LINE_CHARS = 2000;

/**
 * The last invocations finished in this process, for the dashboard: a bounded ring (memory stays
 * flat under load) from which rate and latency percentiles over a window are computed on request.
 */
export class RecentInvocations {
  private entries: RecentInvocation[] = [];

  add(entry: RecentInvocation): void {
    // Most invocations log nothing: no copies then (this runs once per invocation).
    const logs = entry.logs.length === 0 ? [] : entry.logs.slice(-MAX_LOG_LINES).map((l) => (l.line.length > MAX_LINE_CHARS ? { ...l, line: `${l.line.slice(0, MAX_LINE_CHARS)}…` } : l));
    this.entries.push(Object.assign({}, entry, { logs }));
    const old = this.entries[this.entries.length - 1 - MAX_WITH_LOGS];
    if (old && old.logs.length > 0) old.logs = [];
    if (this.entries.length > MAX_ENTRIES) this.entries = this.entries.slice(-MAX_ENTRIES / 2);
  }

  /** Newest first. */
  latest(limit = 50): RecentInvocation[] {
    return this.entries.slice(-limit).reverse();
  }

  find(id: string): RecentInvocation | undefined {
    for (let i = this.entries.length - 1; i >= 0; i--) if (this.entries[i]!.id === id) return this.entries[i];
    return undefined;
  }

  /** Per-bucket count, errors and duration p50 / p99 over the last `windowMs`, oldest first. */
  stats(now = Date.now(), windowMs = 15 * 60_000, bucketMs = 30_000): StatsBucket[] {
    const first = Math.floor((now - windowMs) / bucketMs) * bucketMs + bucketMs;
    const buckets: { start: number; durations: number[]; errors: number }[] = [];
    for (let start = first; start <= now; start += bucketMs) buckets.push({ start, durations: [], errors: 0 });
    for (const e of this.entries) {
      if (e.finishedAt < first) continue;
      const bucket = buckets[Math.floor((e.finishedAt - first) / bucketMs)];
      if (!bucket) continue;
      bucket.durations.push(e.durationMs);
      if (!e.ok) bucket.errors++;
    }
    return buckets.map((b) => {
      const sorted = b.durations.sort((x, y) => x - y);
      return { start: b.start, count: sorted.length, errors: b.errors, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) };
    });
  }
}

/** Nearest-rank percentile of sorted values; null when there are none. */
export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil(p * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}
