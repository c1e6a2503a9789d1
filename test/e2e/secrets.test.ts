import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { existsSync, readdirSync } from 'node:fs';
import { waitFor } from '../helpers/host.ts';
import { startHearth, type TestHearth } from '../helpers/hearth.ts';
import { startSharedRedis } from '../helpers/child-hearth.ts';
import { redisOptions } from '../../src/redis/index.ts';

let h: TestHearth;
let redisUrl: string;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  const redis = await startSharedRedis();
  cleanups.push(() => redis.close());
  redisUrl = redis.url;
  h = await startHearth({ env: { REDIS_URL: redisUrl, HEARTH_SECRET_KEY: 'test-key-material' } });
  cleanups.push(() => h.close());
});

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

const reader = `
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
export default () => {
  let files = null, value = null, writable = false;
  try { files = readdirSync('/run/secrets').sort(); value = readFileSync('/run/secrets/db-password', 'utf8'); } catch {}
  try { writeFileSync('/run/secrets/db-password', 'x'); writable = true; } catch {}
  return { files, value, writable, greeting: process.env.GREETING ?? null };
};`;

describe('env and secrets', () => {
  it('stores secrets encrypted and never returns their value', async () => {
    const put = await h.api('PUT', '/v1/secrets/db-password', { value: 's3cr3t-value' });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ name: 'db-password', updatedAt: expect.any(String) });
    expect((await h.api('GET', '/v1/secrets/db-password')).text).not.toContain('s3cr3t');
    const list = await h.api('GET', '/v1/secrets');
    expect(list.body.secrets).toEqual([{ name: 'db-password', updatedAt: expect.any(String) }]);
    expect(list.text).not.toContain('s3cr3t');

    const redis = new Redis(redisOptions(redisUrl));
    try {
      const raw = await redis.hget('hearth:secrets', 'db-password');
      expect(raw).toMatch(/^v1\./);
      expect(raw).not.toContain('s3cr3t');
      expect(Buffer.from(raw!.split('.').at(-1)!, 'base64url').toString()).not.toContain('s3cr3t');
    } finally {
      redis.disconnect();
    }
    expect((await h.api('PUT', '/v1/secrets/bad%2Fname', { value: 'x' })).status).toBe(400);
    expect((await h.api('GET', '/v1/secrets/missing')).status).toBe(404);
  });

  it('mounts referenced secrets read-only in that function only, and env reaches process.env', async () => {
    await h.deploy('with-secret', reader, { secrets: ['db-password'], env: { GREETING: 'hi' } });
    await h.deploy('without-secret', reader);
    const withRes = await h.invoke('with-secret');
    expect(withRes.status).toBe(200);
    expect(withRes.body).toEqual({ files: ['db-password'], value: 's3cr3t-value', writable: false, greeting: 'hi' });
    const withoutRes = await h.invoke('without-secret');
    expect(withoutRes.body).toEqual({ files: null, value: null, writable: false, greeting: null });
  });

  it('a changed secret reaches the function: warm containers that mount it are recycled', async () => {
    expect((await h.api('PUT', '/v1/secrets/db-password', { value: 'rotated' })).status).toBe(200);
    const res = await h.invoke('with-secret');
    expect(res.body.value).toBe('rotated');
    expect(res.headers.get('x-hearth-cold-start')).toBe('true');
    // Functions that do not mount it keep their warm container.
    expect((await h.invoke('without-secret')).headers.get('x-hearth-cold-start')).toBe('false');
  });

  it('fails the invocation with a clear message when a referenced secret does not exist', async () => {
    await h.deploy('needs-missing', reader, { secrets: ['nope'] });
    const res = await h.invoke('needs-missing');
    expect(res.status).toBe(500);
    expect(res.body.error.message).toMatch(/secret nope does not exist/);
  });

  it('leaves no secret files on the host once the containers are gone', async () => {
    await h.invoke('with-secret');
    const dir = `/run/hearth-secrets/${h.hearth.instance}`;
    expect(readdirSync(dir).length).toBeGreaterThan(0);
    await h.hearth.pool!.retire('with-secret');
    await waitFor(() => !existsSync(dir) || readdirSync(dir).every((id) => !id.startsWith('with-secret-')), 10_000);
  });

  it('deleting a secret keeps it out of new containers', async () => {
    expect((await h.api('DELETE', '/v1/secrets/db-password')).status).toBe(204);
    expect((await h.api('DELETE', '/v1/secrets/db-password')).status).toBe(404);
  });
});
