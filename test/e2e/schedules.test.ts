import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { rm } from 'node:fs/promises';
import { startHearth, type TestHearth } from '../helpers/hearth.ts';
import { waitFor } from '../helpers/host.ts';
import { prepareDataDir, startChildHearth, startSharedRedis, type ChildHearth } from '../helpers/child-hearth.ts';
import { redisOptions } from '../../src/redis/index.ts';

const cleanups: (() => Promise<unknown>)[] = [];
let redisUrl: string;
let a: TestHearth;
let aDir: string;

beforeAll(async () => {
  const redis = await startSharedRedis();
  cleanups.push(() => redis.close());
  redisUrl = redis.url;
  aDir = await prepareDataDir();
  cleanups.push(() => rm(aDir, { recursive: true, force: true }));
  a = await startHearth({ dataDir: aDir, env: { REDIS_URL: redisUrl } });
  cleanups.push(() => a.close());
});

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

interface TickLog {
  invocationId: string;
  line: string;
}

async function ticks(h: TestHearth, fn: string): Promise<TickLog[]> {
  return (await h.api('GET', `/v1/functions/${fn}/logs?limit=10000`)).body.logs.filter((l: TickLog) => l.line.startsWith('tick'));
}

describe('schedules', () => {
  it('validates schedules in config and in the API', async () => {
    await a.deploy('plain', 'export default () => 1');
    const bad = await a.deploy('bad-cron', 'export default () => 1', { schedules: [{ id: 'x', cron: 'not a cron' }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/invalid cron/);
    expect((await a.api('PUT', '/v1/functions/plain/schedules/x', { cron: '61 * * * *' })).status).toBe(400);
    expect((await a.api('PUT', '/v1/functions/plain/schedules/x', { cron: '* * * * *', tz: 'Mars/Olympus' })).status).toBe(400);
    expect((await a.api('PUT', '/v1/functions/nope/schedules/x', { cron: '* * * * *' })).status).toBe(404);
    expect((await a.api('GET', '/v1/functions/plain/schedules/x')).status).toBe(404);
  });

  it('fires once per tick with two Hearth processes on one Redis, survives restarts, goes with the function', async () => {
    const dataDir = await prepareDataDir();
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const b: ChildHearth = await startChildHearth({ REDIS_URL: redisUrl, HEARTH_DATA_DIR: dataDir });
    cleanups.push(() => b.stop());

    // Every 2 s, from config; each run logs its own tick.
    const source = 'export default (e, ctx) => { console.log("tick", e.n, ctx.invocationId); return e.n; }';
    const config = { schedules: [{ id: 'every2s', cron: '*/2 * * * * *', event: { n: 7 } }] };
    const dep = await a.deploy('ticker', source, config);
    expect(dep.status).toBe(201);
    // Images are local to a data dir until a registry is configured: deploying the same source
    // through B puts the same image (same digest) in B's store too, so either process can run a tick.
    const depB = await fetch(`${b.url}/v1/functions`, { method: 'POST', body: JSON.stringify({ name: 'ticker', source, config }) });
    expect(((await depB.json()) as { digest: string }).digest).toBe(dep.body.digest);
    const listed = await a.api('GET', '/v1/functions/ticker/schedules');
    expect(listed.body.schedules).toEqual([{ id: 'every2s', cron: '*/2 * * * * *', event: { n: 7 }, source: 'config', next: expect.any(String) }]);

    await waitFor(async () => (await ticks(a, 'ticker')).length >= 4, 20_000, 200);
    const runs = await ticks(a, 'ticker');
    // One run per tick: no invocation twice, and tick times exactly one period apart.
    const ids = runs.map((r) => r.invocationId);
    expect(new Set(ids).size).toBe(ids.length);
    const times = ids.map((id) => Number(id.split('.').at(-1))).sort((x, y) => x - y);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBe(2000);

    // Every tick ran successfully (in whichever process took it).
    const dead = (await a.api('GET', '/v1/functions/ticker/dead-letters')).body.deadLetters;
    expect(dead).toEqual([]);
    const record = (await a.api('GET', `/v1/invocations/${ids[0]}`)).body;
    expect(record).toMatchObject({ function: 'ticker', status: 'succeeded', trigger: 'schedule', scheduleId: 'every2s', result: 7 });

    // Restart: both processes go away, a new one on the same Redis keeps firing the schedule.
    await b.stop();
    await a.close();
    a = await startHearth({ dataDir: aDir, env: { REDIS_URL: redisUrl } });
    cleanups.push(() => a.close());
    const before = (await ticks(a, 'ticker')).length;
    await waitFor(async () => (await ticks(a, 'ticker')).length >= before + 2, 20_000, 200);

    // An API schedule next to the config one; then removing the function removes both.
    const put = await a.api('PUT', '/v1/functions/ticker/schedules/hourly', { cron: '0 * * * *', tz: 'Europe/Berlin', event: { n: 1 } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ id: 'hourly', source: 'api', tz: 'Europe/Berlin' });
    expect((await a.api('GET', '/v1/functions/ticker/schedules')).body.schedules.map((s: { id: string }) => s.id)).toEqual(['every2s', 'hourly']);
    expect((await a.api('DELETE', '/v1/functions/ticker/schedules/hourly')).status).toBe(204);
    expect((await a.api('DELETE', '/v1/functions/ticker/schedules/hourly')).status).toBe(404);

    expect((await a.api('DELETE', '/v1/functions/ticker')).status).toBe(204);
    const redis = new Redis(redisOptions(redisUrl));
    try {
      expect(await redis.keys('hearth:fn.ticker:*')).toEqual([]);
      expect(await redis.keys('hearth:fn:ticker:schedules')).toEqual([]);
    } finally {
      redis.disconnect();
    }
  }, 120_000);

  it('runs a schedule added over the API, with retries for a failing run', async () => {
    await a.deploy('fails', 'export default (e) => { console.log("tick"); throw new Error("nope"); }', { retries: { attempts: 1, backoffMs: 100 } });
    const put = await a.api('PUT', '/v1/functions/fails/schedules/s1', { cron: '* * * * * *' });
    expect(put.status).toBe(200);
    let dead: any[] = [];
    await waitFor(async () => {
      dead = (await a.api('GET', '/v1/functions/fails/dead-letters')).body.deadLetters;
      return dead.length > 0;
    }, 20_000, 200);
    expect(dead[0]).toMatchObject({ trigger: 'schedule', scheduleId: 's1', status: 'failed', attempts: 2, deadLetter: true });
    expect((await a.api('DELETE', '/v1/functions/fails/schedules/s1')).status).toBe(204);
  }, 60_000);
});
