/** Where the server is in its life: only `serving` can be ready. */
export type LifecyclePhase = 'starting' | 'serving' | 'stopping';

export interface ReadinessReport {
  ready: boolean;
  /** Why not, for the operator (absent when ready). */
  reason?: string;
}

/**
 * Readiness (`/readyz`) as opposed to liveness (`/healthz`): a live server that should get no
 * traffic now because it is starting, stopping, or cannot reach Redis. A load balancer takes it
 * out of rotation meanwhile; the process itself is fine and needs no restart.
 */
export class Readiness {
  phase: LifecyclePhase = 'starting';

  constructor(
    private readonly redis: () => { isUp: boolean } | undefined,
    private readonly managedRedis: () => { state: string } | undefined = () => undefined,
  ) {}

  check(): ReadinessReport {
    if (this.phase === 'starting') return { ready: false, reason: 'starting' };
    if (this.phase === 'stopping') return { ready: false, reason: 'stopping' };
    const managed = this.managedRedis();
    if (managed && managed.state !== 'running') return { ready: false, reason: `the managed redis-server is ${managed.state}` };
    const redis = this.redis();
    if (!redis?.isUp) return { ready: false, reason: 'Redis is unreachable' };
    return { ready: true };
  }
}
