import type { PoolDescription } from '../pool/index.ts';

type Limits = PoolDescription['limits'];

/** `GET /v1/pool` across the cluster: every node's containers and stem cells, each naming its node. */
export interface ClusterPoolDescription {
  containers: (PoolDescription['containers'][number] & { node: string })[];
  stemCells: (PoolDescription['stemCells'][number] & { node: string })[];
  /** The answering node's own limits (what a single-node Hearth always showed). */
  limits: Limits;
  /** Every live node's limits and usage. */
  nodes: { node: string; limits: Limits }[];
}

/**
 * Merges the answering node's live pool with the others' last reports. The local one comes first
 * and is taken fresh; the others are as old as their last heartbeat (a few seconds at most).
 */
export function mergePools(local: { node: string; pool: PoolDescription }, others: Map<string, PoolDescription>): ClusterPoolDescription {
  const all = [[local.node, local.pool] as const, ...[...others].filter(([node]) => node !== local.node).sort(([a], [b]) => a.localeCompare(b))];
  return {
    containers: all.flatMap(([node, pool]) => pool.containers.map((c) => ({ ...c, node }))),
    stemCells: all.flatMap(([node, pool]) => pool.stemCells.map((s) => ({ ...s, node }))),
    limits: local.pool.limits,
    nodes: all.map(([node, pool]) => ({ node, limits: pool.limits })),
  };
}
