/** API auth through the real server: HEARTH_API_KEY guards /v1, /healthz stays public. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHearth, type TestHearth } from '../helpers/hearth.ts';

const KEY = 'test-key-0123456789abcdef';
const auth = (key = KEY) => ({ authorization: `Bearer ${key}` });
let h: TestHearth;

beforeAll(async () => {
  h = await startHearth({ env: { HEARTH_API_KEY: KEY } });
});

afterAll(async () => {
  await h?.close();
});

describe('with HEARTH_API_KEY set', () => {
  it('/healthz stays public', async () => {
    expect((await h.api('GET', '/healthz')).status).toBe(200);
  });

  it('every /v1 request without the right bearer key is 401 unauthorized', async () => {
    const attempts: Array<Record<string, string>> = [
      {},
      { authorization: '' },
      { authorization: KEY },
      { authorization: `Basic ${Buffer.from(`x:${KEY}`).toString('base64')}` },
      auth('wrong'),
      auth(KEY.slice(0, -1)),
      auth(`${KEY}x`),
    ];
    for (const headers of attempts) {
      for (const [method, path, body] of [
        ['GET', '/v1/functions'],
        ['POST', '/v1/functions', { name: 'sneaky', source: 'export default () => 1' }],
        ['GET', '/v1/pool'],
        ['GET', '/v1/functions/sneaky/versions'],
        ['POST', '/v1/gc', {}],
        ['POST', '/v1/functions/sneaky/invoke', {}],
        ['DELETE', '/v1/functions/sneaky'],
      ] as const) {
        const r = await h.api(method, path, body, headers);
        expect({ method, path, headers, status: r.status }).toEqual({ method, path, headers, status: 401 });
        expect(r.body).toMatchObject({ error: { code: 'unauthorized' } });
        expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
      }
    }
    // Nothing got deployed by the refused requests.
    expect((await h.api('GET', '/v1/functions/sneaky', undefined, auth())).status).toBe(404);
  });

  it('with the key, deploy and invoke work', async () => {
    const dep = await h.api('POST', '/v1/functions', { name: 'guarded', source: 'export default () => "in"' }, auth());
    expect(dep.status).toBe(201);
    const r = await h.api('POST', '/v1/functions/guarded/invoke', {}, { ...auth(), authorization: `bearer  ${KEY}` });
    expect(r.status).toBe(200);
    expect(r.body).toBe('in');
  });
});

describe('without a key', () => {
  it('Hearth refuses to listen on a non-loopback address', async () => {
    await expect(startHearth({ env: { HEARTH_HOST: '0.0.0.0' } })).rejects.toThrow(/HEARTH_API_KEY/);
  });
});

describe('HTTP trigger (/fn/) with HEARTH_API_KEY set', () => {
  it('serves public functions without a key and "auth": "key" functions only with it', async () => {
    const source = 'export default { fetch: (req) => new Response("hi " + new URL(req.url).pathname) }';
    for (const [name, config] of [['open-fn', {}], ['locked-fn', { auth: 'key' }]] as const) {
      const r = await h.api('POST', '/v1/functions', { name, source, config }, auth());
      expect(r.status, r.text).toBe(201);
    }
    const get = (path: string, headers: Record<string, string> = {}) => fetch(h.url + path, { headers });
    const open = await get('/fn/open-fn/a');
    expect(open.status).toBe(200);
    expect(await open.text()).toBe('hi /a');
    for (const path of ['/fn/locked-fn', '/fn/locked-fn/', '/fn/locked-fn/a']) {
      expect((await get(path)).status, path).toBe(401);
      expect((await get(path, auth('wrong'))).status, path).toBe(401);
    }
    const locked = await get('/fn/locked-fn/a', auth());
    expect(locked.status).toBe(200);
    expect(await locked.text()).toBe('hi /a');
  });
});
