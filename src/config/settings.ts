import path from 'node:path';

/** Server settings, read once from the environment (names and defaults per DESIGN.md). */
export interface Settings {
  host: string;
  port: number;
  dataDir: string;
  /** Unset: Hearth runs its own redis-server in the data dir. */
  redisUrl: string | undefined;
  apiKey: string | undefined;
  registry: string | undefined;
  ociRuntime: string;
  /** Where example functions are deployed from at start (`npm start`); undefined skips it. */
  functionsDir: string | undefined;
  /** HEARTH_MAX_CONTAINERS: function containers across all functions; undefined = no limit. */
  maxContainers: number | undefined;
  /** HEARTH_POOL_MEMORY_MB: budget for the sum of the containers' memoryMb; undefined = no limit. */
  poolMemoryMb: number | undefined;
  /** HEARTH_STEM_CELLS: generic containers kept started for first invocations (0). */
  stemCells: number;
}

function optionalCount(env: NodeJS.ProcessEnv, name: string, min: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got ${raw}`);
  return n;
}

export function loadSettings(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Settings {
  const port = Number(env.HEARTH_PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`HEARTH_PORT is not a port: ${env.HEARTH_PORT}`);
  return {
    host: env.HEARTH_HOST ?? '127.0.0.1',
    port,
    dataDir: path.resolve(cwd, env.HEARTH_DATA_DIR ?? '.hearth'),
    redisUrl: env.REDIS_URL || undefined,
    apiKey: env.HEARTH_API_KEY || undefined,
    registry: env.HEARTH_REGISTRY || undefined,
    ociRuntime: env.HEARTH_OCI_RUNTIME ?? 'runc',
    functionsDir: env.HEARTH_FUNCTIONS_DIR === '' ? undefined : path.resolve(cwd, env.HEARTH_FUNCTIONS_DIR ?? 'functions'),
    maxContainers: optionalCount(env, 'HEARTH_MAX_CONTAINERS', 1),
    poolMemoryMb: optionalCount(env, 'HEARTH_POOL_MEMORY_MB', 64),
    stemCells: optionalCount(env, 'HEARTH_STEM_CELLS', 0) ?? 0,
  };
}
