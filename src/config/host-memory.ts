import os from 'node:os';

/** Kept back from the pool's default budget for the server, Redis, the page cache and the OS. */
const MAX_RESERVE_MB = 2048;
const RESERVE_FRACTION = 0.1;

/**
 * The pool's memory budget when HEARTH_POOL_MEMORY_MB is unset: the memory this process may use
 * minus a reserve of min(2 GiB, 10 %), so the containers' reservations never add up to more than
 * the machine (or the cgroup Hearth runs in) has.
 *
 * @example
 * defaultPoolMemoryMb(24 * 1024 ** 3) // 22528: 24 GiB minus 2 GiB
 */
export function defaultPoolMemoryMb(totalBytes: number): number {
  const totalMb = Math.floor(totalBytes / 1024 ** 2);
  const reserveMb = Math.min(MAX_RESERVE_MB, Math.ceil(totalMb * RESERVE_FRACTION));
  return Math.max(0, totalMb - reserveMb);
}

/** Physical memory, or the cgroup limit Hearth runs under when that is lower. */
export function usableMemoryBytes(): number {
  const total = os.totalmem();
  // 0 or absurdly large when no cgroup limit applies.
  const constrained = typeof process.constrainedMemory === 'function' ? process.constrainedMemory() : 0;
  return constrained > 0 && constrained < total ? constrained : total;
}
