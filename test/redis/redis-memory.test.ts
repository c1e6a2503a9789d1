import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { memoryFigures, RedisMemoryWatch } from '../../src/redis/index.ts';
import { startSmallRedis, type SmallRedis } from '../helpers/small-redis.ts';
import { waitFor } from '../helpers/host.ts';

describe('memoryFigures', () => {
  it('reads used_memory and maxmemory from INFO memory (0: no limit)', () => {
    const info = '# Memory\r\nused_memory:1048576\r\nused_memory_human:1.00M\r\nmaxmemory:25165824\r\nmaxmemory_human:24.00M\r\n';
    expect(memoryFigures(info)).toEqual({ used: 1048576, max: 25165824 });
    expect(memoryFigures('used_memory:5\r\nmaxmemory:0\r\n')).toEqual({ used: 5, max: 0 });
    expect(memoryFigures('# Memory\r\n')).toBeUndefined();
  });
});

describe('RedisMemoryWatch on a real Redis with maxmemory', () => {
  let redis: SmallRedis;
  beforeAll(async () => {
    redis = await startSmallRedis('16mb');
  });
  afterAll(async () => {
    await redis?.close();
  });

  it('says nearly full once Redis is at its limit, before any write of Hearth was refused, and not once there is room', async () => {
    const watch = new RedisMemoryWatch(redis.client, { intervalMs: 50 });
    await watch.start();
    try {
      expect(watch.nearlyFull).toBe(false);
      await redis.fill();
      await waitFor(() => watch.nearlyFull, 2000, 10);
      await redis.makeRoom();
      await waitFor(() => !watch.nearlyFull, 2000, 10);
    } finally {
      await watch.close();
    }
  });
});

describe('RedisMemoryWatch without Redis', () => {
  it('neither its start nor its close waits for a Redis that does not answer', async () => {
    // As Hearth's shared connection: commands wait in the offline queue through an outage.
    const client = new Redis({ path: '/nonexistent/redis.sock', maxRetriesPerRequest: null, retryStrategy: () => 50 });
    client.on('error', () => undefined);
    const watch = new RedisMemoryWatch(client, { intervalMs: 20 });
    const started = Date.now();
    watch.start();
    await new Promise((r) => setTimeout(r, 100));
    watch.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(watch.nearlyFull).toBe(false);
    client.disconnect();
  });
});
