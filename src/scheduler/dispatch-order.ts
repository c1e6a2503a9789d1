/**
 * The order in which one dispatch pass takes a job from each function with work waiting: every
 * ready function once per pass (so a busy function cannot starve a quiet one), functions this node
 * holds warm idle containers for first, and within each group round robin from the function after
 * the one the previous pass started with.
 *
 * @example
 * passOrder(['a', 'b', 'c'], new Set(['a', 'c']), 'a', (fn) => fn === 'c') // ['c', 'a']
 */
export function passOrder(
  ring: readonly string[],
  ready: ReadonlySet<string>,
  after: string | undefined,
  warmIdle: (fn: string) => boolean,
): string[] {
  const start = after === undefined ? 0 : ring.indexOf(after) + 1;
  const rotated: string[] = [];
  for (let i = 0; i < ring.length; i++) {
    const fn = ring[(start + i) % ring.length]!;
    if (ready.has(fn)) rotated.push(fn);
  }
  return [...rotated.filter(warmIdle), ...rotated.filter((fn) => !warmIdle(fn))];
}
