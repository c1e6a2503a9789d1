import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { Redis } from 'ioredis';
import { assertSafeBind, type Settings } from './config/index.ts';
import { ManagedRedis, createRedis } from './redis/index.ts';
import { ImageStore } from './image/index.ts';
import { AGENT_ENTRY, Runtime, runcVersionWarnings } from './runtime/index.ts';
import { Pool } from './pool/index.ts';
import { CachedCatalog } from './catalog/index.ts';
import { InvocationProducer, InvocationWorkers, ReplyChannel, SyncInvoker, createExecutor } from './scheduler/index.ts';
import { AsyncInvoker, Backpressure, CallbackDelivery, HttpTrigger, InvocationStore, ScheduleService } from './scheduler/index.ts';
import { DirectDispatch, RecordWriter } from './scheduler/index.ts';
import { FunctionService, ImageRegistry, StorageCollector, deployFunctionsDir, imageResolver } from './functions/index.ts';
import { createApp } from './gateway/index.ts';
import { bindMetricSources } from './metrics/index.ts';
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
      const managed = new ManagedRedis(settings.dataDir);
      await managed.start();
      this.closers.push(() => managed.close());
      redisUrl = managed.url;
    }
    const redis = this.own(createRedis(redisUrl));
    const subscriber = createRedis(redisUrl);

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

    // Warm containers hold the secret files they started with: recycle those that mount a changed one.
    // (This process's pool only; other processes pick the new value up as their containers turn over.)
    secrets.onChange = async (name) => {
      for (const fn of await catalog.list()) {
        // Version 0 never exists: every container of the function retires, waiting callers stay.
        if (fn.config.secrets?.includes(name)) await pool.retire(fn.name, 0);
      }
    };

    const collector = new StorageCollector({ images, catalog, liveDigests: () => pool.liveDigests(), intervalMs: settings.gcIntervalMs, log: this.log });
    collector.start();
    this.closers.push(() => collector.close());

    const producer = new InvocationProducer(redis);
    this.closers.push(() => producer.close());
    const store = new InvocationStore(redis, settings.resultTtlS);
    // Records of direct sync calls, batched per event-loop turn; flushed before Redis closes.
    const records = new RecordWriter(store, (message) => rootLogger().warn({ component: 'records' }, message));
    this.closers.push(() => records.close());
    const callbacks = new CallbackDelivery(redis, { backoffMs: settings.callbackBackoffMs });
    this.closers.push(() => callbacks.close());
    const schedules = new ScheduleService(redis, producer);
    const workers = new InvocationWorkers(redis, createExecutor({ catalog, pool }), { store, callbacks, lockMs: settings.jobLockMs });
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

    const functions = new FunctionService({ catalog, images, workers, producer, pool, registry, collector, log: this.log, schedules, store });
    this.functions = functions;
    for (const record of await catalog.list()) functions.activate(record);
    if (settings.functionsDir) {
      for (const line of await deployFunctionsDir(functions, settings.functionsDir)) this.log(line);
    }

    const unbindMetrics = bindMetricSources({
      pool: () => pool.snapshot(),
      stemCells: () => pool.readyStemCells,
      queues: async () => Promise.all((await catalog.list()).map(async (f) => ({
        function: f.name,
        counts: await producer.queue(f.name).getJobCounts('waiting', 'active', 'delayed'),
      }))),
      imageBlobsDir: path.join(settings.dataDir, 'images', 'oci', 'blobs'),
      redisPing: () => redis.ping(),
      runtimeVersion: runcVersion,
    });
    this.closers.push(async () => unbindMetrics());

    // One admission count per process for sync and async submissions alike.
    const backpressure = new Backpressure(producer);
    const app = createApp({
      functions,
      invoker: new SyncInvoker({ catalog, producer, replies, store, backpressure, direct: new DirectDispatch({ pool, records }) }),
      pool,
      invocations: new AsyncInvoker({ catalog, producer, store, backpressure }),
      store,
      schedules,
      secrets,
      trigger: new HttpTrigger({ catalog, pool, store }),
      ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
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
  }

  private own(redis: Redis): Redis {
    this.closers.push(() => redis.quit().catch(() => redis.disconnect()));
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
