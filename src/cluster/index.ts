export { ClusterNode } from './cluster-node.ts';
export type { ClusterNodeOptions } from './cluster-node.ts';
export type { ClusterChange } from './change-feed.ts';
export type { ClusterPoolDescription } from './cluster-pool.ts';
export { mergePools } from './cluster-pool.ts';
export { someNodeCanRun } from './node-record.ts';
export type { NodeRecord } from './node-record.ts';
export { hearthVersion } from './hearth-version.ts';
