import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { Redis } from 'ioredis';
import { assertSafeBind, type Settings } from './config/index.ts';
import { ManagedRedis, RedisHealth, ReplicaAck, checkPersistence, closeRedisClient, createRedis, replicaShortfall } from './redis/index.ts';
import { Readiness } from './health/index.ts';
import { ImageStore } from './image/index.ts';
import { AGENT_ENTRY, Runtime, runcVersionWarnings } from './runtime/index.ts';
import { Pool } from './pool/index.ts';
import { CachedCatalog } from './catalog/index.ts';
import { InvocationProducer, InvocationWorkers, ReplyChannel, SyncInvoker, createExecutor, warmthOf } from './scheduler/index.ts';
import { AsyncInvoker, Backpressure, CallbackDelivery, HttpTrigger, InvocationStore, ScheduleService } from './scheduler/index.ts';
import { FunctionService, ImageAvailability, ImageRegistry, StorageCollector, deployFunctionsDir, imageResolver } from './functions/index.ts';
import { ClusterNode, hearthVersion } from './cluster/index.ts';
import { createApp } from './gateway/index.ts';
import { bindMetricSources, labelMetricsWithNode } from './metrics/index.ts';
import { rootLogger } from './log/index.ts';
import { SecretCipher, SecretStore, loadSecretKey } from './secrets/index.ts';

type Closer = () => Promise<unknown>;

/** How long SIGTERM waits for in-flight invocations (npm start force-exits at 30 s). */
const SHUTDOWN_GRACE_MS = 20_000;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/**
 * One Hearth server: wires Redis, the image store, the runtime, the pool, the scheduler and the
 * gateway in order, and closes them in reverse. Tests start it in-process on a free port.
 */
export class Hearth {
  private readonly closers: Closer[] = [];
  private server: ServerType | undefined;
  url = '';
  functions: FunctionService | undefined;
  pool: Pool | undefined;
  // --- Redis ownership and readiness (managed server, health probe, /readyz) ---
  managedRedis: ManagedRedis | undefined;
  private redisHealth: RedisHealth | undefined;
  readonly readiness = new Readiness(() => this.redisHealth, () => this.managedRedis);
  cluster: ClusterNode | undefined;

  constructor(readonly settings: Settings, private readonly log: (msg: string) => void = console.log) {}

  /** A short id unique to the data dir: names this instance's runc root and cgroups, so a restart finds its leftovers. */
  get instance(): string {
    return createHash('sha256').update(this.settings.dataDir).digest('hex').slice(0, 12);
  }

  async start(): Promise<void> {
    try {
      await this.startAll();
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  private async startAll(): Promise<void> {
    const { settings } = this;
    // Also checked by loadSettings; repeated for Settings built by hand.
    assertSafeBind(settings);
    await mkdir(settings.dataDir, { recursive: true });

    let redisUrl = settings.redisUrl;
    if (!redisUrl) {
      // Registered first, so closed last: Redis outlives everything that drains into it.
      const managed = new ManagedRedis(settings.dataDir, { fsync: settings.redisFsync, maxmemory: settings.redisMaxmemory });
      this.managedRedis = managed;
      await managed.start();
      this.closers.push(() => managed.close());
      redisUrl = managed.url;
    }
    const redis = this.own(createRedis(redisUrl, {}, 'main'));
    const subscriber = createRedis(redisUrl, {}, 'subscriber');
    this.closers.push(() => closeRedisClient(subscriber));
    if (settings.redisUrl) {
      for (const warning of await checkPersistence(redis)) rootLogger().warn({ component: 'redis' }, warning);
    }
    const replicaAck = settings.redisWaitReplicas > 0 ? await this.replicaAck(redis, redisUrl) : undefined;
    const health = new RedisHealth(redisUrl, [redis, subscriber]);
    this.redisHealth = health;
    this.closers.push(async () => health.close());
    await health.start();
    // --- end Redis ownership ---
    // Leaves the node list after the pool is gone (closers run in reverse), before Redis goes.
    this.closers.push(async () => this.cluster?.close());
    labelMetricsWithNode(settings.nodeName);

    const images = new ImageStore({ root: path.join(settings.dataDir, 'images'), agentEntry: AGENT_ENTRY });
    await images.init();
    await images.ensureBaseLayer();

    const runtime = new Runtime({
      stateDir: path.join(settings.dataDir, 'runtime'), runc: settings.ociRuntime, instance: this.instance,
      onWarning: (message) => rootLogger().warn({ component: 'runtime' }, message),
    });
    const { runcVersion } = await runtime.start();
    this.closers.push(() => runtime.close());
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
      baseLayerDir: () => images.baseLayerDir(),
      // A spare rootfs is mounted ahead of a function's first cold start, only from images already here (never a pull at start).
      localLayerDirs: async (digest) => ((await images.has(digest)) ? images.layerDirs(digest) : undefined),
    });
    pool.start();
    this.pool = pool;
    this.closers.push(() => pool.close());

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
    this.closers.push(() => collector.close());

    const producer = new InvocationProducer(redis);
    this.closers.push(() => producer.close());
    const store = new InvocationStore(redis, settings.resultTtlS);
    const callbacks = new CallbackDelivery(redis, { backoffMs: settings.callbackBackoffMs });
    this.closers.push(() => callbacks.close());
    const schedules = new ScheduleService(redis, producer);
    const workers = new InvocationWorkers(redis, createExecutor({ catalog, pool }), {
      store, callbacks, lockMs: settings.jobLockMs, subscriber, node: settings.nodeName,
      coldStartDelayMs: settings.coldStartDelayMs, warmth: () => warmthOf(pool.snapshot()),
    });
    await workers.ready();
    // Closed after the server (registered later, so closed earlier) and before the pool: in-flight
    // work finishes, for at most SHUTDOWN_GRACE_MS; then the pool's containers go, which ends the rest.
    this.closers.push(async () => {
      const closing = workers.close();
      const finished = await Promise.race([closing.then(() => true), sleep(SHUTDOWN_GRACE_MS).then(() => false)]);
      if (!finished) {
        this.log(`shutdown: invocations still running after ${SHUTDOWN_GRACE_MS} ms, removing their containers`);
        await pool.close();
        await closing;
      }
    });
    const replies = new ReplyChannel(subscriber);
    await replies.start();
    this.closers.push(() => replies.close());

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
    this.closers.push(() => cluster.quiet());
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
    this.closers.push(async () => unbindMetrics());

    // One admission count per process for sync and async submissions alike.
    const backpressure = new Backpressure(producer);
    const app = createApp({
      functions,
      invoker: new SyncInvoker({ catalog, producer, replies, store, backpressure }),
      pool,
      invocations: new AsyncInvoker({ catalog, producer, store, backpressure, ...(replicaAck ? { replicated: (id: string) => replicaAck.confirm(id) } : {}) }),
      store,
      schedules,
      secrets,
      trigger: new HttpTrigger({ catalog, pool, store, node: settings.nodeName }),
      cluster,
      ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
      readiness: this.readiness,
      redis: health,
      ...(settings.metricsToken ? { metricsToken: settings.metricsToken } : {}),
    });
    const server = serve({ fetch: app.fetch, hostname: settings.host, port: settings.port });
    this.server = server;
    this.closers.push(() => this.stopServer());
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

  /** HEARTH_REDIS_WAIT_REPLICAS: WAIT blocks its connection, so it gets one of its own. */
  private async replicaAck(redis: Redis, redisUrl: string): Promise<ReplicaAck> {
    const { redisWaitReplicas: replicas, redisWaitTimeoutMs: timeoutMs } = this.settings;
    // No offline queue and a command timeout: during an outage a caller gets its 503 at once, not after it.
    const connection = this.own(createRedis(redisUrl, { enableOfflineQueue: false, commandTimeout: timeoutMs + 1000 }, 'replica-ack'));
    const shortfall = await replicaShortfall(redis, replicas).catch((err: Error) => `could not read Redis' replicas: ${err.message}`);
    if (shortfall) rootLogger().warn({ component: 'redis' }, shortfall);
    return new ReplicaAck(connection, { replicas, timeoutMs });
  }

  private own(redis: Redis): Redis {
    this.closers.push(() => closeRedisClient(redis));
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

  /** Stops taking requests, lets in-flight invocations finish, then removes every container. */
  async close(): Promise<void> {
    this.readiness.phase = 'stopping';
    while (this.closers.length > 0) {
      const closer = this.closers.pop()!;
      try {
        await closer();
      } catch (err) {
        this.log(`shutdown step failed: ${(err as Error).message}`);
      }
    }
  }
}
