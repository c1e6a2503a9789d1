import type { Redis } from 'ioredis';
import { createRedis } from './connection.ts';
import { checkPersistence } from './persistence-check.ts';
import { RedisHealth } from './redis-health.ts';
import { RedisMemoryWatch } from './redis-memory.ts';
import { ReplicaAck, replicaShortfall } from './replica-ack.ts';

/**
 * Who owns what connectRedis makes. Each client and watcher is handed over as soon as it exists,
 * so a start that fails half-way still closes what was made; they close in reverse order.
 */
export interface RedisOwner {
  client(name: string, redis: Redis): Redis;
  stop(name: string, stop: () => Promise<void>): void;
  warn(message: string): void;
}

export interface RedisConnectOptions {
  /** An operator's Redis (REDIS_URL), not the managed one: its persistence settings are checked. */
  external: boolean;
  /** HEARTH_REDIS_WAIT_REPLICAS and HEARTH_REDIS_WAIT_TIMEOUT_MS. */
  waitReplicas: number;
  waitTimeoutMs: number;
}

/** A Hearth server's connections to Redis and what watches them. */
export interface HearthRedis {
  /** Commands, BullMQ's included. */
  redis: Redis;
  /** Pub/sub: wake-ups, replies, warm sets, cluster changes. */
  subscriber: Redis;
  /** Invocation records. */
  records: Redis;
  health: RedisHealth;
  memory: RedisMemoryWatch;
  /** Only with waitReplicas > 0. */
  replicaAck?: ReplicaAck;
}

/** Connects a Hearth server to Redis at `url`; resolves once the health probe has pinged it once. */
export async function connectRedis(url: string, o: RedisConnectOptions, owner: RedisOwner): Promise<HearthRedis> {
  // Auto-pipelined: the queue commands of one event-loop turn (jobs finishing together after a
  // batch of records, a batch of submissions) share one socket write; a write that wakes Redis
  // costs ~50 µs of this process on these machines (profiled). MULTIs and pipelines are never
  // auto-pipelined: they leave at once, ahead of commands queued earlier in the same turn, so
  // a write that must follow another awaits it first (Hearth's and BullMQ's code do).
  const redis = owner.client('redis', createRedis(url, { enableAutoPipelining: true }, 'main'));
  // Quit after the reply channel closed (which quits it politely when Redis answers).
  const subscriber = owner.client('redis subscriber', createRedis(url, {}, 'subscriber'));
  // Invocation records get a connection without BullMQ's ~100 script commands on it: ioredis
  // copies every defined command into each pipeline and MULTI it builds (profiled: a third of
  // a record write's CPU). Auto-pipelined: the reads and writes of one event-loop turn share a
  // socket write.
  const records = owner.client('redis records', createRedis(url, { enableAutoPipelining: true }, 'records'));
  if (o.external) {
    for (const warning of await checkPersistence(redis)) owner.warn(warning);
  }
  const replicaAck = o.waitReplicas > 0 ? await replicaAckFor(redis, url, o, owner) : undefined;
  const health = new RedisHealth(url, [redis, subscriber, records]);
  owner.stop('redis health', async () => health.close());
  await health.start();
  const memory = new RedisMemoryWatch(redis);
  owner.stop('redis memory watch', async () => memory.close());
  memory.start();
  return { redis, subscriber, records, health, memory, ...(replicaAck ? { replicaAck } : {}) };
}

/** HEARTH_REDIS_WAIT_REPLICAS: WAIT blocks its connection, so it gets one of its own. */
async function replicaAckFor(redis: Redis, url: string, o: RedisConnectOptions, owner: RedisOwner): Promise<ReplicaAck> {
  const { waitReplicas: replicas, waitTimeoutMs: timeoutMs } = o;
  // No offline queue and a command timeout: during an outage a caller gets its 503 at once, not after it.
  const connection = owner.client('redis replica-ack', createRedis(url, { enableOfflineQueue: false, commandTimeout: timeoutMs + 1000 }, 'replica-ack'));
  const shortfall = await replicaShortfall(redis, replicas).catch((err: Error) => `could not read Redis' replicas: ${err.message}`);
  if (shortfall) owner.warn(shortfall);
  return new ReplicaAck(connection, { replicas, timeoutMs });
}
