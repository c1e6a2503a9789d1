/** What a node knows when it hears that a function has a new job. */
export interface PlacementInput {
  /** This node holds an idle warm container of the function. */
  warmHere: boolean;
  /** Another live node holds warm containers of the function. */
  warmElsewhere: boolean;
  /** When the job was announced (epoch ms). */
  announcedAt: number;
  /** HEARTH_COLD_START_DELAY_MS: how long a node without a warm container leaves the job to one with. */
  coldStartDelayMs: number;
}

/**
 * When this node should try to take the announced job (epoch ms): at once where a warm container
 * waits here or nowhere else, else after the cold-start delay, so a node with a warm container
 * gets it first and a cold start happens only when that node could not take it in time.
 */
export function takeAt(input: PlacementInput): number {
  if (input.warmHere || !input.warmElsewhere) return input.announcedAt;
  return input.announcedAt + input.coldStartDelayMs;
}
