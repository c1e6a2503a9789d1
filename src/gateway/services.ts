import type { FunctionService } from '../functions/index.ts';
import type { PoolDescription, PoolEntry } from '../pool/index.ts';
import type { Logger } from '../log/index.ts';
import type { SecretStore } from '../secrets/index.ts';
import type { ReadinessReport } from '../health/index.ts';
import type { RedisGate } from './middleware/redis-guard.ts';
import type { ClusterPoolDescription, NodeRecord } from '../cluster/index.ts';
import type { AsyncInvoker, HttpTrigger, InvocationStore, ScheduleService, SyncInvoker } from '../scheduler/index.ts';

/** What the gateway needs from the rest of Hearth; it holds no container logic itself. */
export interface GatewayServices {
  functions: FunctionService;
  invoker: SyncInvoker;
  pool: { snapshot(): PoolEntry[]; describe(): Promise<PoolDescription> };
  /** HEARTH_API_KEY. Set: /v1 calls and the dashboard (/ui) need it; unset: both are open (loopback only). */
  apiKey?: string;
  /** Request logs; default the process's pino logger (HEARTH_LOG_LEVEL). */
  logger?: Logger;
  invocations: AsyncInvoker;
  store: InvocationStore;
  schedules: ScheduleService;
  secrets: SecretStore;
  trigger: HttpTrigger;
  /** `/readyz`: starting, stopping, Redis unreachable. Absent: always ready. */
  readiness?: { check(): ReadinessReport };
  /** Absent: requests are never turned away for Redis (unit tests without one). */
  redis?: RedisGate;
  /** HEARTH_MAX_ASSET_BYTES: the deploy body may carry this much beside the code, in base64. Default 50 MiB. */
  maxAssetBytes?: number;
  /** HEARTH_METRICS_TOKEN: a bearer token for /metrics only (the API key works there too). */
  metricsToken?: string;
  /** The cluster this node belongs to: `GET /v1/nodes`, and `/v1/pool` across nodes. Absent: this node alone. */
  cluster?: {
    nodes(): Promise<NodeRecord[]>;
    pool(): Promise<ClusterPoolDescription>;
    /** Whether any live node can get the function's image (invocations are refused otherwise). */
    canRunAnywhere(name: string): boolean | Promise<boolean>;
    readonly id: string;
  };
}
