import type { Redis } from 'ioredis';
import type { PoolDescription } from '../pool/index.ts';
import { bounded } from '../time-bound/index.ts';
import { parseNodeRecord, registryKeys, type NodeRecord, type NodeReport } from './node-record.ts';

export interface NodeRegistryOptions {
  id: string;
  version: string;
  /** This node's pool now (containers, memory, limits). */
  describePool: () => Promise<PoolDescription>;
  /** Functions this node cannot get the image of. */
  unavailable: () => string[];
  /** How often the node says it is alive (5 s). */
  heartbeatMs?: number;
  /** How long a node stays listed after its last heartbeat (15 s): three missed beats. */
  ttlMs?: number;
  prefix?: string;
  warn?: (message: string) => void;
}

/** Every Redis call of the registry waits at most this long: Redis may be gone. */
const REDIS_BOUND_MS = 1000;

/**
 * This node's entry in the cluster's node list, kept alive by a heartbeat. Each node writes its
 * record and pool under keys that expire after `ttlMs`, so a node that dies (SIGKILL, a lost
 * machine) drops out by itself, timed by Redis's clock rather than by any node's. The member set
 * only enumerates ids; members whose record expired are pruned by whoever lists.
 */
export class NodeRegistry {
  readonly id: string;
  readonly startedAt = new Date().toISOString();
  private readonly heartbeatMs: number;
  private readonly ttlMs: number;
  private readonly prefix: string;
  private url = '';
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly redis: Redis, private readonly opts: NodeRegistryOptions) {
    this.id = opts.id;
    this.heartbeatMs = opts.heartbeatMs ?? 5000;
    this.ttlMs = opts.ttlMs ?? 15_000;
    this.prefix = opts.prefix ?? 'hearth';
  }

  /** Registers the node (its API is at `url`) and starts the heartbeat. */
  async start(url: string): Promise<void> {
    this.url = url;
    await this.heartbeat();
    this.timer = setInterval(() => void this.heartbeat(), this.heartbeatMs);
    this.timer.unref();
  }

  /** What this node would report now. */
  async report(): Promise<NodeReport> {
    const pool = await this.opts.describePool();
    const record: NodeRecord = {
      id: this.id,
      url: this.url,
      version: this.opts.version,
      startedAt: this.startedAt,
      lastHeartbeat: new Date().toISOString(),
      containers: pool.limits.containers,
      memoryReservedMb: pool.limits.memoryReservedMb,
      memoryBudgetMb: pool.limits.memoryBudgetMb,
      unavailable: [...this.opts.unavailable()].sort(),
    };
    return { record, pool };
  }

  /** One heartbeat now (also after a change worth showing at once). Never throws; overlapping calls share one. */
  heartbeat(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.beating ??= this.beat().finally(() => {
      this.beating = undefined;
    });
    return this.beating;
  }

  private async beat(): Promise<void> {
    try {
      const { record, pool } = await this.report();
      const keys = registryKeys(this.prefix, this.id);
      await bounded(
        this.redis
          .multi()
          .set(keys.record, JSON.stringify(record), 'PX', this.ttlMs)
          .set(keys.pool, JSON.stringify(pool), 'PX', this.ttlMs)
          .sadd(keys.members, this.id)
          .exec(),
        REDIS_BOUND_MS,
        'node heartbeat',
      );
    } catch (err) {
      // A missed beat is what the TTL is for; the next one tries again.
      this.opts.warn?.(`node heartbeat failed: ${(err as Error).message}`);
    }
  }

  /** Live nodes, sorted by id. Members whose record expired are removed from the set. */
  async list(): Promise<NodeRecord[]> {
    const { members } = registryKeys(this.prefix);
    const ids = await bounded(this.redis.smembers(members), REDIS_BOUND_MS, 'node list');
    if (ids.length === 0) return [];
    const raws = await bounded(this.redis.mget(ids.map((id) => registryKeys(this.prefix, id).record)), REDIS_BOUND_MS, 'node list');
    const live: NodeRecord[] = [];
    const gone: string[] = [];
    ids.forEach((id, i) => {
      const record = parseNodeRecord(raws[i] ?? null);
      if (record) live.push(record);
      else gone.push(id);
    });
    if (gone.length > 0) void bounded(this.redis.srem(members, ...gone), REDIS_BOUND_MS).catch(() => undefined);
    return live.sort((a, b) => a.id.localeCompare(b.id));
  }

  /** The pools of the given nodes as they last reported them (a node whose report expired is left out). */
  async pools(ids: string[]): Promise<Map<string, PoolDescription>> {
    const out = new Map<string, PoolDescription>();
    if (ids.length === 0) return out;
    const raws = await bounded(this.redis.mget(ids.map((id) => registryKeys(this.prefix, id).pool)), REDIS_BOUND_MS, 'node pools');
    ids.forEach((id, i) => {
      const raw = raws[i];
      if (raw) out.set(id, JSON.parse(raw) as PoolDescription);
    });
    return out;
  }

  /** Stops the heartbeat and removes the node from the list (bounded: Redis may be gone, then the TTL does it). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.beating;
    const keys = registryKeys(this.prefix, this.id);
    await bounded(this.redis.multi().del(keys.record, keys.pool).srem(keys.members, this.id).exec(), REDIS_BOUND_MS, 'node deregistration').catch(() => undefined);
  }
}
