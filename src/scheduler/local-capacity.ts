/** A container as the capacity check sees it (a pool snapshot entry). */
interface ContainerView {
  function: string;
  state: 'starting' | 'idle' | 'busy';
  retiring: boolean;
  inFlight: number;
}

/**
 * Whether this node can run one more invocation of the function without waiting for a container
 * of it to come free: one of its containers has a free slot (`concurrency`), or fewer than
 * `maxContainers` are live so one can start. The pool's memory budget is left to the pool
 * (it evicts idle containers of other functions to make room).
 *
 * @example
 * hasLocalCapacity([{ function: 'f', state: 'busy', retiring: false, inFlight: 1 }], 'f', { concurrency: 1, maxContainers: 1 }) // false
 */
export function hasLocalCapacity(
  containers: readonly ContainerView[],
  fn: string,
  config: { concurrency: number; maxContainers: number },
): boolean {
  let live = 0;
  for (const c of containers) {
    if (c.function !== fn || c.retiring) continue;
    live++;
    if (c.state !== 'starting' && c.inFlight < config.concurrency) return true;
  }
  return live < config.maxContainers;
}
