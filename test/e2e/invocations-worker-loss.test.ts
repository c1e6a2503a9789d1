import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { startHearth, type TestHearth } from '../helpers/hearth.ts';
import { waitFor } from '../helpers/host.ts';
import { prepareDataDir, startChildHearth, startSharedRedis, type ChildHearth } from '../helpers/child-hearth.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

async function api(url: string, method: string, p: string, body?: unknown): Promise<any> {
  const res = await fetch(url + p, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
  const text = await res.text();
  return text ? JSON.parse(text) : undefined;
}

describe('a worker process killed while an async invocation runs', () => {
  it('does not leave the invocation running: another Hearth runs it again and it finishes', async () => {
    const redis = await startSharedRedis();
    cleanups.push(() => redis.close());
    const dataDir = await prepareDataDir();
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    // A short lock so the lost job is noticed in seconds, not the default 30 s.
    const env = { REDIS_URL: redis.url, HEARTH_JOB_LOCK_MS: '1500' };

    const child: ChildHearth = await startChildHearth({ ...env, HEARTH_DATA_DIR: dataDir });
    cleanups.push(() => child.kill());
    const dep = await api(child.url, 'POST', '/v1/functions', {
      name: 'sleeper',
      source: 'export default async (e, ctx) => { console.log("start", process.pid); await new Promise((r) => setTimeout(r, 2500)); return { done: true }; }',
    });
    expect(dep.version).toBe(1);
    const { id } = await api(child.url, 'POST', '/v1/functions/sleeper/invocations', {});
    await waitFor(async () => (await api(child.url, 'GET', `/v1/invocations/${id}`)).status === 'running', 30_000);

    await child.kill();

    // The same data dir: the new process also sweeps the containers the dead one left.
    const h: TestHearth = await startHearth({ dataDir, env });
    cleanups.push(() => h.close());
    let record: any;
    await waitFor(async () => {
      record = (await h.api('GET', `/v1/invocations/${id}`)).body;
      return record.status === 'succeeded' || record.status === 'failed';
    }, 30_000, 100);
    expect(record).toMatchObject({ id, status: 'succeeded', result: { done: true }, attempts: 2 });
    const logs = (await h.api('GET', `/v1/invocations/${id}/logs`)).body.logs;
    expect(logs.filter((l: { line: string }) => l.line.startsWith('start'))).toHaveLength(1);
  }, 120_000);
});
