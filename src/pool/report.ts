import type { Usage } from './capacity.ts';
import type { ContainerState, PooledContainer } from './pooled-container.ts';
import type { StemCellEntry } from './stem-cells.ts';

/** One container in `Pool.snapshot()` and `GET /v1/pool`. */
export interface PoolEntry {
  id: string;
  function: string;
  version: number;
  state: ContainerState;
  retiring: boolean;
  fromStemCell: boolean;
  inFlight: number;
  invocations: number;
  ageMs: number;
  idleSince: string | null;
  memoryMb: number;
}

export interface PoolLimits {
  maxContainers: number | null;
  memoryBudgetMb: number | null;
  containers: number;
  memoryReservedMb: number;
  waiting: number;
}

/** `GET /v1/pool`. */
export interface PoolDescription {
  containers: (PoolEntry & { memoryBytes: number })[];
  stemCells: StemCellEntry[];
  limits: PoolLimits;
}

/** A container's function and state (Pool.states()). */
export type ContainerStateEntry = Pick<PoolEntry, 'function' | 'state' | 'retiring' | 'inFlight'>;

/** The containers as reported, sorted by function then id. */
export function poolEntries(containers: PooledContainer[], now: number): PoolEntry[] {
  return containers
    .map((p) => ({
      id: p.id,
      function: p.fn.name,
      version: p.fn.version,
      state: p.state,
      retiring: p.retiring,
      fromStemCell: p.fromStemCell,
      inFlight: p.inFlight,
      invocations: p.served,
      ageMs: now - p.createdAt,
      idleSince: p.state === 'idle' ? new Date(p.idleSince).toISOString() : null,
      memoryMb: p.memoryMb,
    }))
    .sort((a, b) => a.function.localeCompare(b.function) || a.id.localeCompare(b.id));
}

/** The entries plus what each container's cgroup uses now, the stem cells and the global limits. */
export async function describePool(
  containers: PooledContainer[],
  stemCells: Promise<StemCellEntry[]>,
  limits: { maxContainers?: number; memoryBudgetMb?: number; usage: Usage; waiting: number },
): Promise<PoolDescription> {
  const byId = new Map(containers.map((p) => [p.id, p]));
  const entries = poolEntries(containers, Date.now());
  const withMemory = await Promise.all(
    entries.map(async (e) => ({ ...e, memoryBytes: (await byId.get(e.id)?.container?.memoryBytes()) ?? 0 })),
  );
  return {
    containers: withMemory,
    stemCells: await stemCells,
    limits: {
      maxContainers: limits.maxContainers ?? null,
      memoryBudgetMb: limits.memoryBudgetMb ?? null,
      containers: limits.usage.count,
      memoryReservedMb: limits.usage.memoryMb,
      waiting: limits.waiting,
    },
  };
}
