export { Pool, PoolTimeoutError } from './pool.ts';
export type { PoolDescription, PoolEntry, PoolOptions, RunResult } from './pool.ts';
export type { ContainerState, PoolFunction } from './pooled-container.ts';
export type { StemCellEntry } from './stem-cells.ts';
