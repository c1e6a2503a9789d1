import type { Redis } from 'ioredis';
import type { PoolDescription } from '../pool/index.ts';
import { ChangeFeed, type ClusterChange } from './change-feed.ts';
import { ClusterSync, type ClusterSyncDeps } from './cluster-sync.ts';
import { mergePools, type ClusterPoolDescription } from './cluster-pool.ts';
import { NodeRegistry } from './node-registry.ts';
import { someNodeCanRun, type NodeRecord } from './node-record.ts';

/** How long a node list read for an admission check is reused: only calls this node cannot run pay for it. */
const NODE_LIST_REUSE_MS = 1000;

export interface ClusterNodeOptions extends Omit<ClusterSyncDeps, 'afterChange'> {
  /** This node's id (HEARTH_NODE_NAME). */
  node: string;
  version: string;
  describePool: () => Promise<PoolDescription>;
  heartbeatMs?: number;
  nodeTtlMs?: number;
  /** How often the change counter is checked for missed notices. */
  changeCheckMs?: number;
  /** How often functions whose image could not be had are looked at again (10 s). */
  recheckMs?: number;
  warn?: (message: string) => void;
}

/**
 * This Hearth as one node of a cluster on a shared Redis: its entry in the node list (heartbeat),
 * the change notices it sends and applies, and the cluster-wide views built from the other
 * nodes' reports. A single Hearth is a cluster of one; nothing here needs a second node.
 */
export class ClusterNode {
  readonly registry: NodeRegistry;
  private readonly feed: ChangeFeed;
  private readonly sync: ClusterSync;
  private recheckTimer: NodeJS.Timeout | undefined;
  private recentNodes: { at: number; nodes: Promise<NodeRecord[]> } | undefined;

  constructor(redis: Redis, subscriber: Redis, private readonly opts: ClusterNodeOptions) {
    this.registry = new NodeRegistry(redis, {
      id: opts.node,
      version: opts.version,
      describePool: opts.describePool,
      unavailable: () => opts.functions.unavailableFunctions(),
      ...(opts.heartbeatMs ? { heartbeatMs: opts.heartbeatMs } : {}),
      ...(opts.nodeTtlMs ? { ttlMs: opts.nodeTtlMs } : {}),
      ...(opts.warn ? { warn: opts.warn } : {}),
    });
    this.feed = new ChangeFeed(redis, subscriber, {
      node: opts.node,
      ...(opts.changeCheckMs ? { checkMs: opts.changeCheckMs } : {}),
      ...(opts.warn ? { warn: opts.warn } : {}),
    });
    this.sync = new ClusterSync({ ...opts, afterChange: () => void this.registry.heartbeat() });
  }

  get id(): string {
    return this.opts.node;
  }

  /** Starts listening for other nodes' changes; call before reading the catalog at start, so none falls between. */
  async listen(): Promise<void> {
    await this.feed.start(this.sync);
    this.recheckTimer = setInterval(() => {
      if (this.opts.functions.unavailableFunctions().length === 0) return;
      this.sync.recheckUnavailable().then(() => this.registry.heartbeat(), (err: Error) => this.opts.warn?.(`image recheck failed: ${err.message}`));
    }, this.opts.recheckMs ?? 10_000);
    this.recheckTimer.unref();
  }

  /** Joins the node list, with the URL its API answers on. */
  register(url: string): Promise<void> {
    return this.registry.start(url);
  }

  /** Tells every other node about a change this node made and applied. */
  async announce(change: ClusterChange): Promise<void> {
    await this.feed.publish(change);
    void this.registry.heartbeat();
  }

  nodes(): Promise<NodeRecord[]> {
    return this.registry.list();
  }

  /**
   * Whether some live node can get the function's image. `true` at once, not a promise, when
   * this node can (no I/O: every invocation asks); otherwise the other nodes' reports decide. An
   * invocation no node can run is refused with image_unavailable instead of waiting in the queue
   * for a node that will never take it.
   */
  canRunAnywhere(name: string): true | Promise<boolean> {
    if (!this.opts.functions.isUnavailable(name)) return true;
    const now = Date.now();
    if (!this.recentNodes || now - this.recentNodes.at > NODE_LIST_REUSE_MS) {
      this.recentNodes = { at: now, nodes: this.registry.list().catch(() => []) };
    }
    return this.recentNodes.nodes.then((nodes) => someNodeCanRun(nodes, name));
  }

  /** The pools of every live node, this one's taken now. */
  async pool(): Promise<ClusterPoolDescription> {
    const local = await this.opts.describePool();
    const others = await this.registry.list().then((nodes) => this.registry.pools(nodes.map((n) => n.id).filter((id) => id !== this.id))).catch(() => new Map<string, PoolDescription>());
    return mergePools({ node: this.id, pool: local }, others);
  }

  /** Stops applying other nodes' changes (shutdown: no worker may start after the workers closed). */
  async quiet(): Promise<void> {
    clearInterval(this.recheckTimer);
    await this.feed.close();
  }

  /** Stops applying changes and leaves the node list (bounded: works with Redis gone). */
  async close(): Promise<void> {
    await this.quiet();
    await this.registry.close();
  }
}
