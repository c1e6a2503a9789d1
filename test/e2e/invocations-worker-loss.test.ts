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
    // The redelivery is recorded, and is not an attempt: one attempt allowed, one made.
    expect(record).toMatchObject({ id, status: 'succeeded', result: { done: true }, attempts: 1, maxAttempts: 1, redeliveries: 1 });
    const logs = (await h.api('GET', `/v1/invocations/${id}/logs`)).body.logs;
    expect(logs.filter((l: { line: string }) => l.line.startsWith('start'))).toHaveLength(1);
  }, 120_000);

  it('marks the invocation failed (a dead letter) when its workers keep dying', async () => {
    const redis = await startSharedRedis();
    cleanups.push(() => redis.close());
    const dataDir = await prepareDataDir();
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const env = { REDIS_URL: redis.url, HEARTH_JOB_LOCK_MS: '1500', HEARTH_DATA_DIR: dataDir };

    // BullMQ re-runs a stalled job once; a second loss fails it for good.
    let child: ChildHearth = await startChildHearth(env);
    cleanups.push(() => child.kill());
    await api(child.url, 'POST', '/v1/functions', { name: 'forever', source: 'export default () => new Promise(() => {})', config: { timeoutMs: 600_000 } });
    const { id } = await api(child.url, 'POST', '/v1/functions/forever/invocations', {});
    for (const attempt of [1, 2]) {
      await waitFor(async () => {
        const r = await api(child.url, 'GET', `/v1/invocations/${id}`);
        return r.status === 'running' && r.attempts === 1 && (r.redeliveries ?? 0) === attempt - 1;
      }, 30_000, 100);
      await child.kill();
      if (attempt === 1) {
        child = await startChildHearth(env);
        cleanups.push(() => child.kill());
      }
    }

    const h: TestHearth = await startHearth({ dataDir, env });
    cleanups.push(() => h.close());
    let record: any;
    await waitFor(async () => {
      record = (await h.api('GET', `/v1/invocations/${id}`)).body;
      return record.status !== 'running' && record.status !== 'queued';
    }, 30_000, 100);
    expect(record).toMatchObject({ id, status: 'failed', deadLetter: true, error: { code: 'internal', message: expect.stringMatching(/stalled/) } });
    expect((await h.api('GET', '/v1/functions/forever/dead-letters')).body.deadLetters.map((d: { id: string }) => d.id)).toEqual([id]);
  }, 180_000);
});
