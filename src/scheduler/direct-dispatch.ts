import type { FunctionVersion } from '../catalog/index.ts';
import type { Pool } from '../pool/index.ts';
import { observeInvocation, syncDispatchTotal } from '../metrics/index.ts';
import type { InvocationResult } from './invocation.ts';
import { attemptEnded, attemptStarted, queuedRecord } from './invocation-record.ts';
import type { RecordWriter } from './record-writer.ts';

export interface DirectCall {
  invocationId: string;
  event: unknown;
  /** Keep the result in the record (an Idempotency-Key resubmission reads it). */
  keepResult: boolean;
}

/**
 * Runs a sync call straight in a warm container of this process's pool, skipping the queue: no
 * job, no pickup, no reply through Redis. Only when a container of the version has a free slot
 * now, or when the function has no container here and no other node has it warm (its first
 * container then starts here, for this call, as Lambda does, evicting idle ones of other
 * functions if this node is full and alone); the caller
 * decides first that nothing of the function waits in its queue. The call ends
 * like a queued one: metrics, and a record with its logs, written off the caller's path.
 */
export class DirectDispatch {
  constructor(
    private readonly deps: {
      pool: Pool;
      records?: RecordWriter;
      /** This node's name, kept on the record. */
      node?: string;
      /**
       * Whether the function's first container may start on this node for a direct call: false when
       * this node cannot get its image, or another node has it warm (the queue takes the call
       * there). Absent: always (this node alone).
       */
      mayStartHere?: (name: string) => boolean;
      /**
       * Whether that first container may evict idle containers of other functions to fit: only
       * when no other node could take the call (this node alone); else the queue places it, on a
       * node with room if there is one. Absent: always.
       */
      mayEvictHere?: () => boolean;
      /** A direct call started the function's container here (other nodes should hear of it). */
      onStarted?: () => void;
      /**
       * Redis is full, or nearly (its last record write was refused, or INFO memory says so): a
       * direct call's record, written after its answer, could be lost, so the queue takes it.
       * Absent: never.
       */
      redisFull?: () => boolean;
    },
  ) {}

  /**
   * The call's result, or undefined (nothing run) when no warm slot is free now and the function's
   * first container cannot start here, or while Redis is full (see `redisFull`).
   */
  tryRun(fn: FunctionVersion, call: DirectCall): Promise<InvocationResult> | undefined {
    // Its record could not be written: the queue's own write refuses the call (503) or finds room.
    if (this.deps.redisFull?.()) return undefined;
    const startedAt = Date.now();
    const run = this.deps.pool.tryRun(
      { name: fn.name, version: fn.version, digest: fn.digest, config: fn.config },
      { invocationId: call.invocationId, event: call.event, deadline: startedAt + fn.config.timeoutMs },
      { startHere: this.deps.mayStartHere?.(fn.name) ?? true, evictHere: this.deps.mayEvictHere?.() ?? true },
    );
    if (!run) return undefined;
    return run.then(({ outcome, coldStart, containerId }) => {
      if (coldStart && containerId !== null) this.deps.onStarted?.();
      const result: InvocationResult = {
        invocationId: call.invocationId,
        function: fn.name,
        version: fn.version,
        ok: outcome.ok,
        ...(outcome.ok ? { result: outcome.result } : { error: outcome.error }),
        coldStart,
        containerId,
        queuedMs: 0,
        durationMs: outcome.durationMs,
        logs: outcome.logs,
        direct: true,
      };
      const finishedAt = Date.now();
      // Bookkeeping after the answer is on its way: it runs once this turn's response is written
      // (a record is readable a few ms later anyway; metrics by the next scrape).
      setImmediate(() => {
        observeInvocation(result);
        syncDispatchTotal.inc({ function: fn.name, path: 'direct' });
        this.deps.records?.write(directRecord(result, startedAt, finishedAt, call.keepResult, this.deps.node), result.logs);
      });
      return result;
    });
  }
}

/** A direct call runs once, as soon as it arrives: queued and started at the same moment. */
function directRecord(result: InvocationResult, startedAt: number, finishedAt: number, keepResult: boolean, node: string | undefined) {
  const queued = queuedRecord({ id: result.invocationId, function: result.function, version: result.version, trigger: 'sync', maxAttempts: 1, queuedAt: startedAt });
  const running = attemptStarted(queued, { attempt: 1, maxAttempts: 1, startedAt, ...(node ? { node } : {}) });
  return attemptEnded(running, result, { final: true, keepResult, finishedAt });
}
