import type { Redis } from 'ioredis';
import { bounded } from '../time-bound/index.ts';

/** Something every node must act on: a function's catalog entry or a secret changed. */
export type ClusterChange = { kind: 'function'; name: string } | { kind: 'secret'; name: string };

/** What goes over the channel: the change, its number in the change counter, and who made it. */
interface ChangeMessage {
  seq: number;
  origin: string;
  change: ClusterChange;
}

export interface ChangeFeedHandlers {
  /** A change another node made. */
  apply: (change: ClusterChange) => Promise<void>;
  /** Some change may have been missed: re-read everything. */
  resync: () => Promise<void>;
}

export interface ChangeFeedOptions {
  node: string;
  prefix?: string;
  /** How often the change counter is compared with what this node saw (2 s): one GET each time. */
  checkMs?: number;
  warn?: (message: string) => void;
}

const REDIS_BOUND_MS = 1000;

/**
 * Numbers the change and publishes its notice in one step: no reader sees the counter ahead of a
 * notice still to be sent (a window a stalled publisher used to stretch past a check interval,
 * where the change was taken for lost). ARGV: origin, change (JSON).
 */
const PUBLISH_CHANGE = `
local seq = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', KEYS[2], '{"seq":' .. seq .. ',"origin":' .. cjson.encode(ARGV[1]) .. ',"change":' .. ARGV[2] .. '}')
return seq`;

/**
 * Cluster-wide change notices: every change is numbered by INCR on `<prefix>:changes:seq` and
 * published on `<prefix>:changes` in one script; every node applies what others publish. Pub/sub
 * drops messages while a subscriber is disconnected, so the counter is compared after every
 * (re)connect and every `checkMs`: a number this node never saw means a missed change, and it
 * resyncs everything.
 *
 * The counter is read on another connection than the one notices arrive on, so its answer can
 * overtake a notice sent before it: a gap only counts as missed when it is still open at the next
 * check.
 */
export class ChangeFeed {
  private readonly channel: string;
  private readonly seqKey: string;
  /** Every change numbered up to here was seen (applied, published, or covered by a resync). */
  private watermark = 0;
  /** Seen numbers above the watermark. */
  private readonly seen = new Set<number>();
  /** The counter at the previous check when it was ahead of the watermark. */
  private suspect: number | undefined;
  private handlers: ChangeFeedHandlers | undefined;
  private timer: NodeJS.Timeout | undefined;
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly redis: Redis, private readonly subscriber: Redis, private readonly opts: ChangeFeedOptions) {
    const prefix = opts.prefix ?? 'hearth';
    this.channel = `${prefix}:changes`;
    this.seqKey = `${prefix}:changes:seq`;
  }

  /** Subscribes; everything before now is taken as known (the node read the whole catalog at start). */
  async start(handlers: ChangeFeedHandlers): Promise<void> {
    this.handlers = handlers;
    this.watermark = Number((await this.redis.get(this.seqKey)) ?? 0);
    this.subscriber.on('message', (channel: string, raw: string) => {
      if (channel === this.channel) this.onMessage(raw);
    });
    // ioredis resubscribes by itself after a reconnect; what was published meanwhile is lost.
    this.subscriber.on('ready', () => void this.check(true));
    await this.subscriber.subscribe(this.channel);
    this.timer = setInterval(() => void this.check(false), this.opts.checkMs ?? 2000);
    this.timer.unref();
  }

  /** Announces a change this node made (and applied) itself. */
  async publish(change: ClusterChange): Promise<void> {
    const published = this.redis.eval(PUBLISH_CHANGE, 2, this.seqKey, this.channel, this.opts.node, JSON.stringify(change));
    this.markSeen(Number(await bounded(published, REDIS_BOUND_MS, 'change notice')));
  }

  private onMessage(raw: string): void {
    let message: ChangeMessage;
    try {
      message = JSON.parse(raw) as ChangeMessage;
    } catch {
      return;
    }
    if (typeof message.seq !== 'number' || message.seq <= this.watermark || this.seen.has(message.seq)) return;
    this.markSeen(message.seq);
    if (message.origin === this.opts.node) return;
    this.enqueue(() => this.handlers!.apply(message.change));
  }

  private markSeen(seq: number): void {
    if (seq <= this.watermark) return;
    this.seen.add(seq);
    while (this.seen.delete(this.watermark + 1)) this.watermark++;
  }

  /**
   * Compares the counter with what was seen. After a reconnect any gap means a missed message;
   * otherwise a gap must survive one interval (a notice may still be on its way).
   */
  private async check(reconnected: boolean): Promise<void> {
    if (this.closed || !this.handlers) return;
    let current: number;
    try {
      current = Number((await bounded(this.redis.get(this.seqKey), REDIS_BOUND_MS, 'change counter')) ?? 0);
    } catch {
      return;
    }
    const stale = reconnected ? current : this.suspect;
    if (stale !== undefined && this.watermark < stale) {
      this.opts.warn?.(`missed cluster changes (saw up to ${this.watermark}, counter at ${stale}): re-reading everything`);
      this.coverUpTo(stale);
      this.enqueue(() => this.handlers!.resync());
    }
    this.suspect = current > this.watermark ? current : undefined;
  }

  private coverUpTo(seq: number): void {
    for (const s of this.seen) if (s <= seq) this.seen.delete(s);
    this.watermark = Math.max(this.watermark, seq);
    while (this.seen.delete(this.watermark + 1)) this.watermark++;
  }

  /** Changes are applied one at a time, in arrival order: a rollback never overtakes the deploy before it. */
  private enqueue(task: () => Promise<void>): void {
    this.queue = this.queue.then(task).catch((err: unknown) => this.opts.warn?.(`applying a cluster change failed: ${(err as Error).message}`));
  }

  /** Stops checking and waits for the change being applied. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.queue;
  }
}
