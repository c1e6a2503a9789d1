import type { Redis } from 'ioredis';
import { createRedis } from './connection.ts';

export interface RedisHealthOptions {
  /** How often the probe PINGs (default 500 ms). */
  intervalMs?: number;
  /** A PING slower than this counts as down (default 500 ms). */
  timeoutMs?: number;
}

/**
 * Whether Redis answers right now, known without waiting on it: a probe connection of its own
 * PINGs twice a second (no offline queue, a command timeout), and the connections Hearth works
 * with count too. Requests that need Redis consult it so they fail fast instead of queueing.
 */
export class RedisHealth {
  private readonly probe: Redis;
  private readonly watched: Redis[];
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private probeOk = false;
  private probing: Promise<void> | undefined;
  private up = false;
  private downSince: number | undefined = Date.now();
  private readonly listeners = new Set<(up: boolean) => void>();

  constructor(url: string, watched: Redis[], opts: RedisHealthOptions = {}) {
    this.intervalMs = opts.intervalMs ?? 500;
    const timeoutMs = opts.timeoutMs ?? 500;
    this.probe = createRedis(url, { enableOfflineQueue: false, commandTimeout: timeoutMs, maxRetriesPerRequest: 0, connectTimeout: timeoutMs }, 'health-probe');
    this.watched = watched;
    const recheck = () => this.update();
    for (const client of [this.probe, ...watched]) {
      for (const event of ['ready', 'close', 'end', 'reconnecting', 'error']) client.on(event, recheck);
    }
    this.probe.on('ready', () => void this.ping());
  }

  /** Starts probing; resolves after the first probe. */
  async start(): Promise<void> {
    await this.ping();
    this.timer = setInterval(() => {
      // One probe at a time: a hung server must not collect a queue of PINGs.
      if (!this.probing) this.probing = this.ping().finally(() => { this.probing = undefined; });
    }, this.intervalMs);
    this.timer.unref();
  }

  private async ping(): Promise<void> {
    const sent = Date.now();
    try {
      this.probeOk = (await this.probe.ping()) === 'PONG';
    } catch {
      this.probeOk = false;
    }
    // A hung server is noticed only when the PING times out; it was unanswered since it was sent.
    this.update(this.probeOk ? undefined : sent);
  }

  private update(failedSince?: number): void {
    const up = this.probeOk && this.probe.status === 'ready' && this.watched.every((c) => c.status === 'ready');
    if (up === this.up) return;
    this.up = up;
    this.downSince = up ? undefined : Math.min(failedSince ?? Date.now(), Date.now());
    for (const l of this.listeners) l(up);
  }

  get isUp(): boolean {
    return this.up;
  }

  /** Since when Redis has been unreachable (epoch ms), or undefined while it is up. */
  get unreachableSince(): number | undefined {
    return this.downSince;
  }

  /** Called on every change between up and down; returns the unsubscribe. */
  onChange(listener: (up: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.listeners.clear();
    this.probe.disconnect();
  }
}
