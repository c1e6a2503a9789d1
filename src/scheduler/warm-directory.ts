import type { Redis } from 'ioredis';

/** Pub/sub channel of the nodes' warm sets. */
export function warmChannel(prefix: string): string {
  return `${prefix}:dispatch:warm`;
}

interface Announcement {
  node: string;
  functions: string[];
  /** Forget it after this long without a newer one (a node that died says nothing more). */
  ttlMs: number;
  /** The node is stopping: forget it now. (Nodes before this field sent an empty set instead.) */
  leaving?: boolean;
}

/** How often a node repeats its warm set while nothing changes. */
const REPEAT_MS = 20_000;

/**
 * Which other nodes live and which of them hold warm containers of which functions, learned from
 * what each node announces on one pub/sub channel: its whole warm set (empty too), when it
 * changes and every REPEAT_MS. It costs no Redis command to ask, and nothing at all while nothing
 * changes but one small message per node every REPEAT_MS. What it knows may be a moment late;
 * that costs at most one cold-start delay, one cold start or one eviction, never an invocation.
 */
export class WarmDirectory {
  private readonly others = new Map<string, { functions: Set<string>; until: number }>();
  private announced = '';
  private announcedAt = 0;

  constructor(
    private readonly publisher: Redis,
    private readonly prefix: string,
    private readonly node: string,
  ) {}

  get channel(): string {
    return warmChannel(this.prefix);
  }

  /** Another live node has warm containers of the function. */
  warmElsewhere(fn: string): boolean {
    for (const entry of this.live().values()) if (entry.functions.has(fn)) return true;
    return false;
  }

  /**
   * No other node announced itself within its announcement's lifetime: this node is the only one
   * that could serve a call (a node that just started is heard within a second).
   */
  alone(): boolean {
    return this.live().size === 0;
  }

  /** The other nodes still live: those that fell silent are forgotten first. */
  private live(): ReadonlyMap<string, { functions: Set<string> }> {
    const now = Date.now();
    for (const [node, entry] of this.others) if (entry.until < now) this.others.delete(node);
    return this.others;
  }

  /** A message on the channel (this node's own included, and ignored). */
  heard(message: string): void {
    let a: Announcement;
    try {
      a = JSON.parse(message) as Announcement;
    } catch {
      return;
    }
    if (a.node === this.node || !Array.isArray(a.functions)) return;
    if (a.leaving) this.others.delete(a.node);
    else this.others.set(a.node, { functions: new Set(a.functions), until: Date.now() + a.ttlMs });
  }

  /** Publishes this node's warm set if it changed, or if it was last said REPEAT_MS ago. */
  async announce(warm: ReadonlySet<string>, force = false): Promise<void> {
    const functions = [...warm].sort();
    const text = functions.join(',');
    const now = Date.now();
    if (!force && text === this.announced && now - this.announcedAt < REPEAT_MS) return;
    this.announced = text;
    this.announcedAt = now;
    const message: Announcement = { node: this.node, functions, ttlMs: 3 * REPEAT_MS };
    await this.publisher.publish(this.channel, JSON.stringify(message)).catch(() => undefined);
  }

  /** This node stops: the others forget it (its containers are about to go). */
  async leave(): Promise<void> {
    const message: Announcement = { node: this.node, functions: [], ttlMs: 0, leaving: true };
    await this.publisher.publish(this.channel, JSON.stringify(message)).catch(() => undefined);
  }
}
