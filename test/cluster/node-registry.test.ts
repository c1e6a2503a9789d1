import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createRedis } from '../../src/redis/index.ts';
import { NodeRegistry } from '../../src/cluster/node-registry.ts';
import type { PoolDescription } from '../../src/pool/index.ts';
import { startSharedRedis } from '../helpers/child-hearth.ts';
import { waitFor } from './cluster-harness.ts';

/** Node registries on one real Redis, with a short heartbeat and TTL so expiry is quick to see. */
let redis: Awaited<ReturnType<typeof startSharedRedis>>;
let client: Redis;

beforeAll(async () => {
  redis = await startSharedRedis();
  client = createRedis(redis.url);
});

afterAll(async () => {
  client?.disconnect();
  await redis?.close();
});

const pool = (containers: number): PoolDescription => ({
  containers: [],
  stemCells: [],
  limits: { maxContainers: null, memoryBudgetMb: 4096, containers, memoryReservedMb: containers * 128, waiting: 0 },
});

function registry(id: string, opts: { containers?: number; unavailable?: string[]; ttlMs?: number; via?: Redis } = {}): NodeRegistry {
  return new NodeRegistry(opts.via ?? client, {
    id,
    version: '9.9.9',
    describePool: async () => pool(opts.containers ?? 0),
    unavailable: () => opts.unavailable ?? [],
    heartbeatMs: 100,
    ttlMs: opts.ttlMs ?? 400,
  });
}

describe('the node registry', () => {
  it('lists registered nodes with what they reported, sorted by id', async () => {
    const b = registry('reg-b', { containers: 2, unavailable: ['x'] });
    const a = registry('reg-a');
    await b.start('http://b');
    await a.start('http://a');
    const listed = await a.list();
    expect(listed.map((n) => n.id)).toEqual(['reg-a', 'reg-b']);
    expect(listed[1]).toMatchObject({ url: 'http://b', version: '9.9.9', containers: 2, memoryReservedMb: 256, memoryBudgetMb: 4096, unavailable: ['x'] });
    expect((await a.pools(['reg-b'])).get('reg-b')?.limits.containers).toBe(2);
    // A clean stop leaves the list at once.
    await b.close();
    expect((await a.list()).map((n) => n.id)).toEqual(['reg-a']);
    await a.close();
    expect(await client.smembers('hearth:nodes')).toEqual([]);
  });

  it('a node whose heartbeats stop drops out after its TTL, and its id is pruned', async () => {
    const own = createRedis(redis.url);
    const gone = registry('reg-gone', { ttlMs: 300, via: own });
    const watcher = registry('reg-watch', { ttlMs: 5000 });
    await gone.start('http://gone');
    await watcher.start('http://watch');
    // As if the machine vanished: its connection is gone, nothing is deleted.
    own.disconnect();
    const { ms } = await waitFor(async () => !(await watcher.list()).some((n) => n.id === 'reg-gone'), 5000, 20);
    // TTL 300 ms after the last beat; generous for a loaded machine.
    expect(ms).toBeLessThan(2000);
    await waitFor(async () => !(await client.smembers('hearth:nodes')).includes('reg-gone'), 1000);
    await watcher.close();
    // Closing without Redis is bounded, and does not throw.
    await gone.close();
  });
});
