/** Which functions a node holds containers for, as dispatch sees them. */
export interface Warmth {
  /** Functions with at least one started container that takes work (idle or busy, not retiring). */
  warm: ReadonlySet<string>;
  /** Functions with at least one of those idle right now. */
  idle: ReadonlySet<string>;
  /**
   * Invocations running in the function's containers here, however they got there (queued jobs,
   * and requests run directly on the receiving node, which the dispatcher does not count).
   */
  inFlight: ReadonlyMap<string, number>;
}

export const NO_WARMTH: Warmth = { warm: new Set(), idle: new Set(), inFlight: new Map() };

/** The warmth of a pool from its snapshot (a container still starting is not warm yet). */
export function warmthOf(containers: readonly { function: string; state: 'starting' | 'idle' | 'busy'; retiring: boolean; inFlight?: number }[]): Warmth {
  const warm = new Set<string>();
  const idle = new Set<string>();
  const inFlight = new Map<string, number>();
  for (const c of containers) {
    if (c.inFlight) inFlight.set(c.function, (inFlight.get(c.function) ?? 0) + c.inFlight);
    if (c.retiring || c.state === 'starting') continue;
    warm.add(c.function);
    if (c.state === 'idle') idle.add(c.function);
  }
  return { warm, idle, inFlight };
}
