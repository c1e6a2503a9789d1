import { afterAll, describe, expect, it } from 'vitest';
import { createApp, type GatewayServices } from '../../src/gateway/index.ts';
import { BoundTimeoutError } from '../../src/time-bound/index.ts';
import { startChildHearth, prepareDataDir, startSharedRedis } from '../helpers/child-hearth.ts';
import { rm, rmdir } from 'node:fs/promises';
import { instanceOf } from '../../src/hearth.ts';
import { layerBindsBase, mountsBelow, runcIds, runcRoot } from '../helpers/host.ts';

type Cleanup = () => Promise<unknown>;
const cleanups: Cleanup[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

/** Redis looks up to the guard (its outage not noticed yet): only the route's own read fails. */
const redisSeemsUp = { isUp: true, unreachableSince: undefined, onChange: () => () => undefined };

function appWithNodes(nodes: () => Promise<unknown[]>) {
  return createApp({ redis: redisSeemsUp, cluster: { id: 'me', nodes, pool: async () => ({}), canRunAnywhere: async () => true } } as unknown as GatewayServices);
}

describe('GET /v1/nodes without Redis', () => {
  it('a node list read that timed out is 503 unavailable with Retry-After, not 500', async () => {
    const res = await appWithNodes(() => Promise.reject(new BoundTimeoutError('node list', 1000))).request('/v1/nodes');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unavailable');
  });

  it('a dropped connection is 503 too; a readable list is 200', async () => {
    expect((await appWithNodes(() => Promise.reject(new Error('Connection is closed.'))).request('/v1/nodes')).status).toBe(503);
    const ok = await appWithNodes(async () => [{ id: 'me' }]).request('/v1/nodes');
    expect([ok.status, await ok.json()]).toEqual([200, { nodes: [{ id: 'me' }] }]);
  });

  it('a real node whose Redis went away answers 503 unavailable, at once and while it stays away', async () => {
    const redis = await startSharedRedis();
    cleanups.push(() => redis.close());
    const dataDir = await prepareDataDir();
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const node = await startChildHearth({ REDIS_URL: redis.url, HEARTH_DATA_DIR: dataDir, HEARTH_NODE_NAME: 'lonely' });
    // SIGKILL: it runs no container, and a clean stop without Redis waits out its shutdown bound (~30 s).
    cleanups.push(() => node.kill());
    const before = await fetch(`${node.url}/v1/nodes`);
    expect(((await before.json()) as { nodes: { id: string }[] }).nodes.map((n) => n.id)).toEqual(['lonely']);
    await redis.close();
    // Right after the outage (not noticed yet), then once it has been.
    for (const waitMs of [0, 3_000]) {
      await new Promise((r) => setTimeout(r, waitMs));
      const started = Date.now();
      const res = await fetch(`${node.url}/v1/nodes`);
      const body = (await res.json()) as { error?: { code: string } };
      expect([res.status, body.error?.code], `after ${waitMs} ms`).toEqual([503, 'unavailable']);
      expect(Date.now() - started).toBeLessThan(2_500);
    }
    // A SIGKILLed node cleans nothing; it ran no container, so only its empty runc root and its
    // layer binds' dir (no bind in it, only the empty padding dir) are left (a restart would remove them).
    await node.kill();
    const instance = instanceOf(dataDir);
    expect(runcIds(instance)).toEqual([]);
    await rmdir(runcRoot(instance));
    expect(mountsBelow(layerBindsBase(instance))).toEqual([]);
    await rmdir(`${layerBindsBase(instance)}/empty`);
    await rmdir(layerBindsBase(instance));
  }, 90_000);
});
