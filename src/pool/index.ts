export { Pool } from './pool.ts';
export type { PoolOptions } from './pool-options.ts';
export type { PoolContainer, PoolRuntime } from './pool-runtime.ts';
export type { PoolDescription, PoolEntry } from './report.ts';
export type { RunResult } from './run-result.ts';
export { PoolTimeoutError } from './wait-queue.ts';
export type { ContainerState, PoolFunction } from './pooled-container.ts';
export type { StemCellEntry } from './stem-cells.ts';
