import type { FunctionService } from '../functions/index.ts';
import type { PoolDescription, PoolEntry } from '../pool/index.ts';
import type { SyncInvoker } from '../scheduler/index.ts';

/** What the gateway needs from the rest of Hearth; it holds no container logic itself. */
export interface GatewayServices {
  functions: FunctionService;
  invoker: SyncInvoker;
  pool: { snapshot(): PoolEntry[]; describe(): Promise<PoolDescription> };
}
