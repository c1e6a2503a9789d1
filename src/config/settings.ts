import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_MEMORY_MB } from './function-config.ts';
import { defaultPoolMemoryMb, usableMemoryBytes } from './host-memory.ts';

/** Server settings, read once from the environment; the variable names and defaults are a public contract (README). */
export interface Settings {
  host: string;
  port: number;
  dataDir: string;
  /** Unset: Hearth runs its own redis-server in the data dir. */
  redisUrl: string | undefined;
  apiKey: string | undefined;
  registry: string | undefined;
  registryUser: string | undefined;
  registryPassword: string | undefined;
  /** How often unreferenced image blobs and layers are collected (HEARTH_GC_INTERVAL_MS; 0 turns the schedule off). */
  gcIntervalMs: number;
  ociRuntime: string;
  /** Where example functions are deployed from at start (`npm start`); undefined skips it. */
  functionsDir: string | undefined;
  /**
   * How long records (status, result, logs) of async and scheduled invocations are kept:
   * HEARTH_RECORD_TTL_S (older name HEARTH_RESULT_TTL_S), default 24 h.
   */
  resultTtlS: number;
  /** Records of sync and HTTP-trigger invocations: HEARTH_SYNC_RECORD_TTL_S, default 300 s (never above resultTtlS). */
  syncRecordTtlS: number;
  /** Finished async and scheduled records kept per function, oldest deleted first: HEARTH_RECORDS_PER_FUNCTION (10 000). */
  recordsPerFunction: number;
  /** Finished sync and HTTP-trigger records kept per function: HEARTH_SYNC_RECORDS_PER_FUNCTION (1 000). */
  syncRecordsPerFunction: number;
  /** How long a stop signal waits for in-flight invocations before removing their containers: HEARTH_SHUTDOWN_TIMEOUT_MS (10 000). */
  shutdownTimeoutMs: number;
  /** Key material for secrets at rest (HEARTH_SECRET_KEY); unset: a random key kept in the data dir. */
  secretKey: string | undefined;
  /** BullMQ lock duration (HEARTH_JOB_LOCK_MS, 10 s; stalled checks every quarter): a dead node's job runs again within 1.25 × this. */
  jobLockMs: number;
  /** HEARTH_COLD_START_DELAY_MS (25): how long a node without a warm container leaves a new job to a node with one. */
  coldStartDelayMs: number;
  /** First delay of callback delivery retries (HEARTH_CALLBACK_BACKOFF_MS), doubled per attempt. */
  callbackBackoffMs: number;
  /** HEARTH_MAX_CONTAINERS: function containers across all functions; undefined = no limit. */
  maxContainers: number | undefined;
  /** HEARTH_POOL_MEMORY_MB: budget for the sum of the containers' memoryMb; unset: the host's memory minus min(2 GiB, 10 %). */
  poolMemoryMb: number;
  /** HEARTH_MAX_ASSET_BYTES: cap on the files a function ships beside its bundle (50 MiB); past it a deploy gets 413. */
  maxAssetBytes: number;
  /**
   * HEARTH_STEM_CELLS: generic containers kept started for first invocations (2, as OpenWhisk
   * prewarms its Node kinds): a new function's first call takes ~10 ms instead of a ~165 ms cold
   * start, for ~12 MiB of memory per cell. 0 turns them off.
   */
  stemCells: number;
  /**
   * HEARTH_STEM_CELL_MEMORY_MB: the memory of a stem cell, and the only `memoryMb` it serves (128,
   * a function's default): node fixes V8's heap limit when it starts, so a cell gives a function
   * exactly the heap a cold start of it would. Functions of other sizes start cold.
   */
  stemCellMemoryMb: number;
  /** HEARTH_REDIS_FSYNC: the managed Redis' appendfsync, `always` (default: a 202 means on disk) or `everysec`. */
  redisFsync: 'always' | 'everysec';
  /** HEARTH_REDIS_MAXMEMORY: the managed Redis' maxmemory (default 256mb; 0 = none); beyond it new work gets 503. */
  redisMaxmemory: string;
  /** HEARTH_REDIS_WAIT_REPLICAS (0): replicas that must hold an async accept or a deploy before it is answered (Redis WAIT). */
  redisWaitReplicas: number;
  /** HEARTH_REDIS_WAIT_TIMEOUT_MS (1000): how long to wait for them; then the answer is 503 (the write may exist). */
  redisWaitTimeoutMs: number;
  /** HEARTH_METRICS_TOKEN: a bearer token that opens /metrics only (the API key opens it too). */
  metricsToken: string | undefined;
  /** HEARTH_NODE_NAME: this node's id in the cluster registry, records and metrics (see defaultNodeName). */
  nodeName: string;
  /** HEARTH_NODE_URL: the URL other nodes and operators reach this node's API at; default the address it listens on. */
  nodeUrl: string | undefined;
}

/**
 * `<hostname>:<port>`, unique per machine and port. With port 0 (any free port, as tests use) the
 * port is not known yet, so a short hash of the data dir stands in: still unique per Hearth.
 */
export function defaultNodeName(port: number, dataDir: string, hostname = os.hostname()): string {
  if (port !== 0) return `${hostname}:${port}`;
  return `${hostname}:${createHash('sha256').update(dataDir).digest('hex').slice(0, 8)}`;
}

function positiveNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} is not a positive number: ${raw}`);
  return n;
}

/** 127.0.0.0/8, ::1 and localhost: reachable only from this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return h === 'localhost' || h === '::1' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * Without an API key anyone who can reach the API can deploy code: only loopback is safe then.
 * Throws with the fix in the message.
 */
export function assertSafeBind(s: Pick<Settings, 'host' | 'apiKey'>): void {
  if (s.apiKey === undefined && !isLoopbackHost(s.host)) {
    throw new Error(`refusing to listen on ${s.host} without HEARTH_API_KEY: anyone reaching it could deploy and run code. Set HEARTH_API_KEY or bind to 127.0.0.1.`);
  }
}

/** Stem cells a node keeps when HEARTH_STEM_CELLS is unset. */
export const DEFAULT_STEM_CELLS = 2;

function optionalCount(env: NodeJS.ProcessEnv, name: string, min: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got ${raw}`);
  return n;
}

function redisFsync(raw: string | undefined): Settings['redisFsync'] {
  if (raw === undefined || raw === '') return 'always';
  if (raw === 'always' || raw === 'everysec') return raw;
  throw new Error(`HEARTH_REDIS_FSYNC must be "always" or "everysec", got ${raw}`);
}

/** A Redis memory size: bytes, or a number with kb/mb/gb (Redis' own syntax, passed through). */
function redisMaxmemory(raw: string | undefined): string {
  if (raw === undefined || raw === '') return '256mb';
  if (!/^\d+(kb|mb|gb)?$/i.test(raw)) throw new Error(`HEARTH_REDIS_MAXMEMORY must be a size like 256mb, 1gb or 0, got ${raw}`);
  return raw.toLowerCase();
}

export function loadSettings(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Settings {
  const recordTtlS = Math.round(positiveNumber(env, 'HEARTH_RECORD_TTL_S', positiveNumber(env, 'HEARTH_RESULT_TTL_S', 24 * 3600)));
  const port = Number(env.HEARTH_PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`HEARTH_PORT is not a port: ${env.HEARTH_PORT}`);
  const settings: Settings = {
    host: env.HEARTH_HOST || '127.0.0.1',
    port,
    dataDir: path.resolve(cwd, env.HEARTH_DATA_DIR ?? '.hearth'),
    redisUrl: env.REDIS_URL || undefined,
    apiKey: env.HEARTH_API_KEY || undefined,
    registry: env.HEARTH_REGISTRY || undefined,
    registryUser: env.HEARTH_REGISTRY_USER || undefined,
    registryPassword: env.HEARTH_REGISTRY_PASSWORD ?? undefined,
    gcIntervalMs: Number(env.HEARTH_GC_INTERVAL_MS ?? 3_600_000),
    ociRuntime: env.HEARTH_OCI_RUNTIME || 'runc',
    functionsDir: env.HEARTH_FUNCTIONS_DIR === '' ? undefined : path.resolve(cwd, env.HEARTH_FUNCTIONS_DIR ?? 'functions'),
    resultTtlS: recordTtlS,
    // A sync caller already has its answer: its record serves only a short look-up.
    syncRecordTtlS: Math.round(positiveNumber(env, 'HEARTH_SYNC_RECORD_TTL_S', Math.min(300, recordTtlS))),
    recordsPerFunction: optionalCount(env, 'HEARTH_RECORDS_PER_FUNCTION', 1) ?? 10_000,
    syncRecordsPerFunction: optionalCount(env, 'HEARTH_SYNC_RECORDS_PER_FUNCTION', 1) ?? 1_000,
    shutdownTimeoutMs: optionalCount(env, 'HEARTH_SHUTDOWN_TIMEOUT_MS', 0) ?? 10_000,
    secretKey: env.HEARTH_SECRET_KEY || undefined,
    jobLockMs: positiveNumber(env, 'HEARTH_JOB_LOCK_MS', 10_000),
    coldStartDelayMs: optionalCount(env, 'HEARTH_COLD_START_DELAY_MS', 0) ?? 25,
    callbackBackoffMs: positiveNumber(env, 'HEARTH_CALLBACK_BACKOFF_MS', 1000),
    maxContainers: optionalCount(env, 'HEARTH_MAX_CONTAINERS', 1),
    poolMemoryMb: optionalCount(env, 'HEARTH_POOL_MEMORY_MB', 64) ?? defaultPoolMemoryMb(usableMemoryBytes()),
    stemCells: optionalCount(env, 'HEARTH_STEM_CELLS', 0) ?? DEFAULT_STEM_CELLS,
    stemCellMemoryMb: optionalCount(env, 'HEARTH_STEM_CELL_MEMORY_MB', 64) ?? DEFAULT_MEMORY_MB,
    maxAssetBytes: optionalCount(env, 'HEARTH_MAX_ASSET_BYTES', 1) ?? 50 * 1024 * 1024,
    redisFsync: redisFsync(env.HEARTH_REDIS_FSYNC),
    redisMaxmemory: redisMaxmemory(env.HEARTH_REDIS_MAXMEMORY),
    redisWaitReplicas: optionalCount(env, 'HEARTH_REDIS_WAIT_REPLICAS', 0) ?? 0,
    redisWaitTimeoutMs: positiveNumber(env, 'HEARTH_REDIS_WAIT_TIMEOUT_MS', 1000),
    metricsToken: env.HEARTH_METRICS_TOKEN || undefined,
    nodeName: '',
    nodeUrl: env.HEARTH_NODE_URL || undefined,
  };
  settings.nodeName = env.HEARTH_NODE_NAME || defaultNodeName(port, settings.dataDir);
  assertSafeBind(settings);
  return settings;
}
