import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { Redis } from 'ioredis';
import { assertSafeBind, type Settings } from './config/index.ts';
import { ManagedRedis, RedisHealth, closeRedisClient, connectRedis } from './redis/index.ts';
import { Readiness } from './health/index.ts';
import { ImageStore } from './image/index.ts';
import { AGENT_ENTRY, Runtime, runcVersionWarnings } from './runtime/index.ts';
import { Pool } from './pool/index.ts';
import { CachedCatalog } from './catalog/index.ts';
import { InvocationProducer, InvocationWorkers, ReplyChannel, SyncInvoker, createExecutor, warmthOf } from './scheduler/index.ts';
import { AsyncInvoker, Backpressure, CallbackDelivery, HttpTrigger, InvocationStore, ScheduleService } from './scheduler/index.ts';
import { DirectDispatch, QueuedHttp, RecordWriter, hasLocalCapacity } from './scheduler/index.ts';
import { FunctionService, ImageAvailability, ImageRegistry, StorageCollector, deployFunctionsDir, imageResolver } from './functions/index.ts';
import { ClusterNode, hearthVersion } from './cluster/index.ts';
import { createApp } from './gateway/index.ts';
import { bindMetricSources, labelMetricsWithNode } from './metrics/index.ts';
import { RepeatFilter, flushLogs, rootLogger } from './log/index.ts';
import { SecretCipher, SecretStore, loadSecretKey } from './secrets/index.ts';
import { ShutdownSteps, drainInvocations } from './lifecycle/index.ts';
import { settlesWithin } from './time-bound/index.ts';

/** Removing every container and mount; each removal is ~100 ms and they run in parallel. */
const POOL_CLOSE_MS = 10_000;
/** redis-server flushes its AOF on SIGTERM; ManagedRedis SIGKILLs it after 5 s. */
const MANAGED_REDIS_MS = 6_000;

/** Closing what only talks to Redis: milliseconds when it answers; when it does not, waiting longer would not help. */
const REDIS_STEP_MS = 1_000;

/**
 * One Hearth server: wires Redis, the image store, the runtime, the pool, the scheduler and the
 * gateway in order, and closes them in reverse. Tests start it in-process on a free port.
 */
export class Hearth {
  private readonly steps = new ShutdownSteps();
  private server: ServerType | undefined;
  /** What a forced stop needs to reach directly. */
  private readonly owned: { runtime?: Runtime; redisClients: Redis[]; managed?: ManagedRedis; workers?: InvocationWorkers } = { redisClients: [] };
  private closing: Promise<void> | undefined;
  private closeRequested = false;
  url = '';
  functions: FunctionService | undefined;
  pool: Pool | undefined;
  managedRedis: ManagedRedis | undefined;
  private redisHealth: RedisHealth | undefined;
  readonly readiness = new Readiness(() => this.redisHealth, () => this.managedRedis);
  cluster: ClusterNode | undefined;

  constructor(readonly settings: Settings, private readonly log: (msg: string) => void = console.log) {}

  /** A short id unique to the data dir: names this instance's runc root and cgroups, so a restart finds its leftovers. */
  get instance(): string {
    return instanceOf(this.settings.dataDir);
  }

  async start(): Promise<void> {
    try {
      await this.startAll();
    } catch (err) {
      await this.close();
      throw err;
    }
    // A stop signal that came while starting stopped what existed then; stop the rest too.
    if (this.closeRequested) await this.close();
  }

  private async startAll(): Promise<void> {
    const { settings } = this;
    // Also checked by loadSettings; repeated for Settings built by hand.
    assertSafeBind(settings);
    await mkdir(settings.dataDir, { recursive: true });

    let redisUrl = settings.redisUrl;
    if (!redisUrl) {
      const managed = new ManagedRedis(settings.dataDir, { fsync: settings.redisFsync, maxmemory: settings.redisMaxmemory });
      this.managedRedis = managed;
      this.owned.managed = managed;
      // Added first, so it stops last: everything before may still need Redis.
      this.steps.add('managed redis', () => managed.close(), MANAGED_REDIS_MS);
      await managed.start();
      redisUrl = managed.url;
    }
    const { redis, subscriber, records: recordsRedis, health, memory, replicaAck } = await connectRedis(
      redisUrl,
      { external: Boolean(settings.redisUrl), waitReplicas: settings.redisWaitReplicas, waitTimeoutMs: settings.redisWaitTimeoutMs },
      {
        client: (name, client) => this.own(name, client),
        stop: (name, stop) => this.steps.add(name, stop),
        warn: (message) => rootLogger().warn({ component: 'redis' }, message),
      },
    );
    this.redisHealth = health;
    // --- end Redis ownership ---
    // Leaves the node list after the pool is gone (steps run in reverse), before Redis goes.
    this.steps.add('leave the cluster', async () => this.cluster?.close(), REDIS_STEP_MS);
    labelMetricsWithNode(settings.nodeName);

    const images = new ImageStore({ root: path.join(settings.dataDir, 'images'), agentEntry: AGENT_ENTRY, maxAssetBytes: settings.maxAssetBytes });
    await images.init();
    await images.ensureBaseLayer();

    const runtime = new Runtime({
      stateDir: path.join(settings.dataDir, 'runtime'), runc: settings.ociRuntime, instance: this.instance,
      onWarning: (message) => rootLogger().warn({ component: 'runtime' }, message),
    });
    this.owned.runtime = runtime;
    const { runcVersion } = await runtime.start();
    this.steps.add('runtime', () => runtime.close(), POOL_CLOSE_MS);
    this.log(`runtime: runc ${runcVersion} (${settings.ociRuntime})`);
    for (const warning of runcVersionWarnings(runcVersion)) rootLogger().warn({ component: 'runtime' }, warning);

    const catalog = new CachedCatalog(redis, subscriber);
    await catalog.start();
    const registry = settings.registry
      ? new ImageRegistry(images, settings.registry, settings.registryUser ? { username: settings.registryUser, password: settings.registryPassword ?? '' } : undefined)
      : undefined;

    const secrets = new SecretStore(redis, new SecretCipher(await loadSecretKey(settings.secretKey, settings.dataDir)));
    const pool = new Pool({
      runtime,
      layerDirs: imageResolver({ images, catalog, registry, log: this.log }),
      secretsFor: (names) => secrets.resolve(names),
      maxContainers: settings.maxContainers,
      memoryBudgetMb: settings.poolMemoryMb,
      stemCells: settings.stemCells,
      stemCellMemoryMb: settings.stemCellMemoryMb,
      baseLayerDir: () => images.baseLayerDir(),
      // A spare rootfs is mounted ahead of a function's first cold start, only from images already here (never a pull at start).
      localLayerDirs: async (digest) => ((await images.has(digest)) ? images.layerDirs(digest) : undefined),
    });
    pool.start();
    this.pool = pool;
    this.steps.add('pool', () => pool.close(), POOL_CLOSE_MS);

    // Warm containers hold the secret files they started with: recycle those that mount a changed
    // one, here and (through the change notice) on every other node.
    // Version 0 never exists: every container of the function retires, waiting callers stay.
    const recycle = (fn: string) => pool.retire(fn, 0);
    secrets.onChange = async (name) => {
      for (const fn of await catalog.list()) {
        if (fn.config.secrets?.includes(name)) await recycle(fn.name);
      }
      await this.cluster?.announce({ kind: 'secret', name }).catch((err: Error) => this.log(`could not announce the change of secret ${name}: ${err.message}`));
    };

    const collector = new StorageCollector({ images, catalog, liveDigests: () => pool.liveDigests(), intervalMs: settings.gcIntervalMs, log: this.log });
    collector.start();
    this.steps.add('storage collector', () => collector.close(), REDIS_STEP_MS);

    const producer = new InvocationProducer(redis);
    this.steps.add('queues', () => producer.close(), REDIS_STEP_MS);
    const store = new InvocationStore(recordsRedis, {
      ttlS: settings.resultTtlS,
      syncTtlS: settings.syncRecordTtlS,
      perFunction: settings.recordsPerFunction,
      syncPerFunction: settings.syncRecordsPerFunction,
    });
    // Records of direct sync calls, batched per event-loop turn; flushed (after the drain) before Redis closes.
    const recordRepeats = new RepeatFilter((message, fields) => rootLogger().warn(fields, message));
    const recordWriter = new RecordWriter(store, (message) => recordRepeats.warn(message, { component: 'records' }));
    // Work whose record is written after its answer runs here only while Redis can take that record.
    const redisFull = () => recordWriter.redisFull || memory.nearlyFull;
    this.steps.add('record writer', () => recordWriter.close(), REDIS_STEP_MS);
    const callbacks = new CallbackDelivery(redis, { backoffMs: settings.callbackBackoffMs });
    this.steps.add('callbacks', () => callbacks.close(), REDIS_STEP_MS);
    const schedules = new ScheduleService(redis, producer);
    const workers = new InvocationWorkers(redis, createExecutor({ catalog, pool }), {
      store, records: recordWriter, callbacks, lockMs: settings.jobLockMs, subscriber, node: settings.nodeName,
      coldStartDelayMs: settings.coldStartDelayMs, warmth: () => warmthOf(pool.states()),
    });
    this.owned.workers = workers;
    await workers.ready();
    const replies = new ReplyChannel(subscriber);
    await replies.start();
    this.steps.add('reply channel', () => replies.close(), REDIS_STEP_MS);
    // Before functions activate their workers; stops the HTTP server too (created last, stopped first).
    // Bounded inside by HEARTH_SHUTDOWN_TIMEOUT_MS plus the clean-up after it.
    this.steps.add('drain', () => drainInvocations({
      stopServer: () => this.stopServer(), closeAllConnections: () => this.closeAllConnections(),
      workers, replies, pool, redisUp: () => redis.status === 'ready',
      timeoutMs: settings.shutdownTimeoutMs, poolCloseMs: POOL_CLOSE_MS,
    }), Infinity);

    const functions = new FunctionService({
      catalog, images, workers, producer, pool, registry, collector, log: this.log, schedules, store,
      availability: new ImageAvailability({ images, registry }),
      announce: async (name) => this.cluster?.announce({ kind: 'function', name }),
      ...(replicaAck ? { replicated: () => replicaAck.confirm() } : {}),
    });
    this.functions = functions;
    const cluster = new ClusterNode(redis, subscriber, {
      node: settings.nodeName,
      version: hearthVersion(),
      describePool: () => pool.describe(),
      catalog,
      functions,
      recycle,
      warn: (message) => rootLogger().warn({ component: 'cluster' }, message),
    });
    this.cluster = cluster;
    // Before the workers close (steps run in reverse): no worker may start after they closed.
    this.steps.add('stop applying changes', () => cluster.quiet(), REDIS_STEP_MS);
    // Listening first: a change made while the catalog is read below is applied, not lost.
    await cluster.listen();
    // Only functions whose image this node can get take work here; the registry is asked a few at a time.
    const records = await catalog.list();
    for (let i = 0; i < records.length; i += 8) await Promise.all(records.slice(i, i + 8).map((r) => functions.sync(r)));
    if (settings.functionsDir) {
      for (const line of await deployFunctionsDir(functions, settings.functionsDir)) this.log(line);
    }

    const unbindMetrics = bindMetricSources({
      pool: () => pool.snapshot(),
      stemCells: () => pool.readyStemCells,
      // A scrape while Redis is down must not wait in ioredis' offline queue: skip what needs it.
      queues: async () => (!health.isUp ? [] : Promise.all((await catalog.list()).map(async (f) => ({
        function: f.name,
        counts: await producer.queue(f.name).getJobCounts('waiting', 'active', 'delayed'),
      })))),
      imageBlobsDir: path.join(settings.dataDir, 'images', 'oci', 'blobs'),
      redisPing: () => (health.isUp ? redis.ping() : Promise.reject(new Error('Redis is unreachable'))),
      runtimeVersion: runcVersion,
    });
    this.steps.add('metrics', async () => unbindMetrics());

    // One admission count per process for sync and async submissions alike.
    const backpressure = new Backpressure(producer);
    const direct = new DirectDispatch({
      pool, records: recordWriter, node: settings.nodeName,
      mayStartHere: (name) => !functions.isUnavailable(name) && !workers.warmElsewhere(name),
      mayEvictHere: () => workers.alone(),
      redisFull,
      onStarted: () => workers.warmthChanged(),
    });
    const app = createApp({
      functions,
      invoker: new SyncInvoker({ catalog, producer, replies, store, backpressure, direct }),
      pool,
      invocations: new AsyncInvoker({ catalog, producer, store, backpressure, ...(replicaAck ? { replicated: (id: string) => replicaAck.confirm(id) } : {}) }),
      store,
      schedules,
      secrets,
      trigger: new HttpTrigger({
        catalog, pool, records: recordWriter, node: settings.nodeName,
        // Without the image or room here, the request runs on a node that has them, through the
        // queue; so does every request while Redis is full (its record could not be written after
        // the answer: the queue's write refuses it instead).
        overflow: {
          http: new QueuedHttp({ producer, replies, backpressure }),
          runsHere: (fn) => !redisFull() && !functions.isUnavailable(fn.name) && hasLocalCapacity(pool.states(), fn.name, fn.config),
        },
      }),
      cluster,
      ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
      readiness: this.readiness,
      redis: health,
      ...(settings.metricsToken ? { metricsToken: settings.metricsToken } : {}),
      maxAssetBytes: settings.maxAssetBytes,
    });
    const server = serve({ fetch: app.fetch, hostname: settings.host, port: settings.port });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    const address = server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    this.url = `http://${host}:${address.port}`;
    await cluster.register(settings.nodeUrl ?? this.url);
    this.readiness.phase = 'serving';
  }

  private own(name: string, redis: Redis): Redis {
    this.owned.redisClients.push(redis);
    this.steps.add(name, () => closeRedisClient(redis));
    return redis;
  }

  private stopServer(): Promise<void> {
    const server = this.server;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => {
      server.close(() => resolve());
      // Idle keep-alive sockets would hold close() open.
      if ('closeIdleConnections' in server) server.closeIdleConnections();
    });
  }

  private closeAllConnections(): void {
    const server = this.server;
    if (server && 'closeAllConnections' in server) server.closeAllConnections();
  }

  /**
   * Stops taking requests, lets in-flight invocations finish (bounded), removes every container,
   * closes Redis clients, stops the managed Redis last. Each step is bounded and logged as JSON.
   */
  close(): Promise<void> {
    this.readiness.phase = 'stopping';
    this.closeRequested = true;
    this.closing ??= this.closeSteps().finally(() => {
      this.closing = undefined;
    });
    return this.closing;
  }

  private async closeSteps(): Promise<void> {
    const log = rootLogger().child({ component: 'shutdown' });
    const started = performance.now();
    const steps = await this.steps.runAll(log);
    if (steps.length > 0) log.info({ ms: Math.round(performance.now() - started), steps }, 'shutdown complete');
    flushLogs();
  }

  /**
   * A second stop signal: no more waiting. Containers and mounts go now, connections are dropped,
   * the managed Redis is stopped (it flushes its AOF on SIGTERM). Accepted jobs stay in Redis.
   */
  async forceClose(): Promise<void> {
    this.owned.workers?.abandonInFlight();
    this.closeAllConnections();
    if (this.owned.runtime) await settlesWithin(this.owned.runtime.close(), POOL_CLOSE_MS);
    for (const client of this.owned.redisClients) client.disconnect();
    if (this.owned.managed) await settlesWithin(this.owned.managed.close(), MANAGED_REDIS_MS);
  }
}

/** The runtime instance of a data dir (see Hearth.instance). */
export function instanceOf(dataDir: string): string {
  return createHash('sha256').update(dataDir).digest('hex').slice(0, 12);
}
