export { Pool } from './pool.ts';
export type { PoolEntry, PoolOptions, RunResult } from './pool.ts';
export type { ContainerState, PoolFunction } from './pooled-container.ts';
