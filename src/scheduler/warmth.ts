/** Which functions a node holds containers for, as dispatch sees them. */
export interface Warmth {
  /** Functions with at least one started container that takes work (idle or busy, not retiring). */
  warm: ReadonlySet<string>;
  /** Functions with at least one of those idle right now. */
  idle: ReadonlySet<string>;
}

export const NO_WARMTH: Warmth = { warm: new Set(), idle: new Set() };

/** The warmth of a pool from its snapshot (a container still starting is not warm yet). */
export function warmthOf(containers: readonly { function: string; state: 'starting' | 'idle' | 'busy'; retiring: boolean }[]): Warmth {
  const warm = new Set<string>();
  const idle = new Set<string>();
  for (const c of containers) {
    if (c.retiring || c.state === 'starting') continue;
    warm.add(c.function);
    if (c.state === 'idle') idle.add(c.function);
  }
  return { warm, idle };
}
