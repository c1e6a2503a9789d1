/** Within this long, a warning seen again is counted instead of written. */
const DEFAULT_QUIET_MS = 30_000;

/**
 * Keeps a fault that repeats from flooding the log: a warning whose text (digits aside, so counts
 * and ids do not make it new) was written less than `quietMs` ago is counted, and the next one
 * written says how many were left out. While Redis is full, say, each function with work used to
 * log a failed fetch every second and the record writer every flush.
 *
 * @example
 * const repeats = new RepeatFilter((message, fields) => log.warn(fields, message));
 * repeats.warn('fetching from echo failed', { err: err.message });
 */
export class RepeatFilter {
  private readonly seen = new Map<string, { at: number; left: number }>();

  constructor(
    private readonly write: (message: string, fields: Record<string, unknown>) => void,
    private readonly quietMs = DEFAULT_QUIET_MS,
    private readonly now: () => number = Date.now,
  ) {}

  warn(message: string, fields: Record<string, unknown> = {}): void {
    const key = `${message}\u0000${typeof fields.err === 'string' ? fields.err : ''}`.replace(/\d+/g, '#');
    const at = this.now();
    const last = this.seen.get(key);
    if (last && at - last.at < this.quietMs) {
      last.left++;
      return;
    }
    const left = last?.left ?? 0;
    this.seen.set(key, { at, left: 0 });
    this.forgetOld(at);
    this.write(message, left > 0 ? { ...fields, repeats: left } : fields);
  }

  /** Keys quiet for longer than `quietMs` are dropped: one that comes back starts afresh. */
  private forgetOld(at: number): void {
    if (this.seen.size < 256) return;
    for (const [key, entry] of this.seen) if (at - entry.at >= this.quietMs) this.seen.delete(key);
  }
}
