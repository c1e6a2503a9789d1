import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createRedis } from '../../src/redis/index.ts';
import { ChangeFeed, type ClusterChange } from '../../src/cluster/change-feed.ts';
import { startSharedRedis } from '../helpers/child-hearth.ts';
import { waitFor } from './cluster-harness.ts';

/** Two nodes' change feeds on one real Redis (no Hearth around them). */
let redis: Awaited<ReturnType<typeof startSharedRedis>>;
const clients: Redis[] = [];
const feeds: ChangeFeed[] = [];

beforeAll(async () => {
  redis = await startSharedRedis();
});

afterAll(async () => {
  for (const f of feeds) await f.close();
  for (const c of clients) c.disconnect();
  await redis?.close();
});

/**
 * `checkMs`: how often the counter is compared. A gap must survive one interval before it counts
 * as missed, so where a test expects notices to be applied, the interval must be longer than a
 * notice can take on a loaded machine (at 50 ms a delayed one was taken for lost and resynced).
 */
async function feedFor(node: string, checkMs = 50) {
  const [cmd, sub] = [createRedis(redis.url), createRedis(redis.url)];
  clients.push(cmd, sub);
  const applied: ClusterChange[] = [];
  let resyncs = 0;
  const feed = new ChangeFeed(cmd, sub, { node, checkMs });
  feeds.push(feed);
  await feed.start({ apply: async (c) => void applied.push(c), resync: async () => void resyncs++ });
  return { feed, cmd, sub, applied, resyncs: () => resyncs };
}

describe('cluster change notices', () => {
  it('reach the other node, not the one that made the change', async () => {
    const a = await feedFor('a', 300);
    const b = await feedFor('b', 300);
    await a.feed.publish({ kind: 'function', name: 'f' });
    await a.feed.publish({ kind: 'secret', name: 's' });
    await waitFor(async () => b.applied.length === 2, 2000);
    expect(b.applied).toEqual([{ kind: 'function', name: 'f' }, { kind: 'secret', name: 's' }]);
    expect(a.applied).toEqual([]);
    // Every change seen, nothing missed: no resync on either side after several checks.
    await new Promise((r) => setTimeout(r, 700));
    expect([a.resyncs(), b.resyncs()]).toEqual([0, 0]);
  });

  it('a lost notice is caught by the counter check and everything is re-read', async () => {
    const c = await feedFor('c');
    // A change counted but its notice never delivered (as while a subscriber was disconnected).
    await c.cmd.incr('hearth:changes:seq');
    const { ms } = await waitFor(async () => c.resyncs() === 1, 2000, 10);
    // Two checks (50 ms apart) at most; generous for a loaded 2-core machine.
    expect(ms).toBeLessThan(1500);
    await new Promise((r) => setTimeout(r, 200));
    expect(c.resyncs()).toBe(1);
  });

  it('after a reconnect, changes made meanwhile cause a resync at once', async () => {
    const d = await feedFor('d');
    const e = await feedFor('e');
    // Gone for Redis too (disconnect half-closes: a notice sent meanwhile could still be read).
    const gone = new Promise((r) => d.sub.once('end', r));
    d.sub.disconnect();
    await gone;
    await e.feed.publish({ kind: 'function', name: 'while-away' });
    d.sub.connect().catch(() => undefined);
    await waitFor(async () => d.resyncs() >= 1, 2000, 10);
    expect(d.applied).toEqual([]);
  });
});
