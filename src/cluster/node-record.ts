import type { PoolDescription } from '../pool/index.ts';

/** What one node says about itself with every heartbeat (`GET /v1/nodes`). */
export interface NodeRecord {
  /** HEARTH_NODE_NAME, default `<hostname>:<port>`. */
  id: string;
  /** Where this node's API answers. */
  url: string;
  /** Hearth version the node runs. */
  version: string;
  startedAt: string;
  lastHeartbeat: string;
  /** Function containers this node holds now. */
  containers: number;
  /** Sum of the memoryMb its containers reserve. */
  memoryReservedMb: number;
  /** HEARTH_POOL_MEMORY_MB, null when unbounded. */
  memoryBudgetMb: number | null;
  /** Functions whose image this node cannot get: it takes none of their work. */
  unavailable: string[];
}

/** What the node registry stores per node besides the record: its pool, for the cluster-wide `/v1/pool`. */
export interface NodeReport {
  record: NodeRecord;
  pool: PoolDescription;
}

/** Redis keys of the registry, all under the `hearth` prefix. */
export function registryKeys(prefix: string, id?: string): { members: string; record: string; pool: string } {
  return {
    members: `${prefix}:nodes`,
    record: `${prefix}:node:${id ?? ''}`,
    pool: `${prefix}:node:${id ?? ''}:pool`,
  };
}

/** Parses a stored record; undefined for a key that expired or holds something else. */
export function parseNodeRecord(raw: string | null): NodeRecord | undefined {
  if (!raw) return undefined;
  try {
    const value = JSON.parse(raw) as Partial<NodeRecord>;
    return typeof value.id === 'string' && typeof value.url === 'string' ? (value as NodeRecord) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether any live node can run the function: false only when every node says its image is
 * unavailable there. No nodes listed (the registry is not started yet) means "don't know": true.
 */
export function someNodeCanRun(nodes: NodeRecord[], fn: string): boolean {
  return nodes.length === 0 || nodes.some((n) => !n.unavailable.includes(fn));
}
