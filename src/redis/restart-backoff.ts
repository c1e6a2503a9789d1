/** Delay before restarting a crashed redis-server: 100 ms, doubling per crash in a row, at most 5 s. */
export function restartDelayMs(crashesInARow: number): number {
  return Math.min(100 * 2 ** Math.min(crashesInARow, 6), 5000);
}
