/** The auth pieces without a server: key comparison, header parsing, per-function /fn/ auth, bind checks. */
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { assertSafeBind, isLoopbackHost, loadSettings } from '../../src/config/index.ts';
import { bearerToken, keyMatches, requireApiKey, requireFunctionKey, type FunctionAuth } from '../../src/gateway/middleware/auth.ts';
import { handleError } from '../../src/gateway/middleware/error-handler.ts';

describe('keyMatches / bearerToken', () => {
  it('compares keys exactly, whatever their lengths', () => {
    expect(keyMatches('abc', 'abc')).toBe(true);
    expect(keyMatches('abc', 'abd')).toBe(false);
    expect(keyMatches('ab', 'abc')).toBe(false);
    expect(keyMatches('', 'abc')).toBe(false);
  });

  it('reads only the Bearer scheme', () => {
    expect(bearerToken('Bearer k1')).toBe('k1');
    expect(bearerToken('bearer   k1 ')).toBe('k1');
    expect(bearerToken('Basic k1')).toBeUndefined();
    expect(bearerToken('Bearer')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});

describe('/fn/ routes: public unless the function says "auth": "key"', () => {
  const configs: Record<string, FunctionAuth | undefined> = { open: undefined, public: 'none', locked: 'key' };
  const app = (apiKey: string | undefined) => {
    const a = new Hono();
    a.onError(handleError);
    a.use('/v1/*', requireApiKey({ apiKey }));
    a.use('/fn/:name/*', requireFunctionKey({ apiKey, lookup: async (n) => configs[n] }));
    a.all('/fn/:name/*', (c) => c.text(`hello from ${c.req.param('name')}`));
    a.get('/v1/x', (c) => c.text('v1'));
    return a;
  };

  it('lets public functions through without a key, and guards "key" functions', async () => {
    const a = app('sekrit');
    expect((await a.request('/fn/open/x')).status).toBe(200);
    expect((await a.request('/fn/public/x', { method: 'POST' })).status).toBe(200);
    expect((await a.request('/fn/open')).status).toBe(200);
    const denied = await a.request('/fn/locked/x');
    expect(denied.status).toBe(401);
    expect(await denied.json()).toMatchObject({ error: { code: 'unauthorized' } });
    expect((await a.request('/fn/locked', { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    expect((await a.request('/fn/locked/x', { headers: { authorization: 'Bearer sekrit' } })).status).toBe(200);
    expect((await a.request('/v1/x')).status).toBe(401);
    expect((await a.request('/v1/x', { headers: { authorization: 'Bearer sekrit' } })).status).toBe(200);
  });

  it('without a server key, /v1 is open but a "key" function is never reachable (fails closed)', async () => {
    const a = app(undefined);
    expect((await a.request('/v1/x')).status).toBe(200);
    expect((await a.request('/fn/open/x')).status).toBe(200);
    expect((await a.request('/fn/locked/x', { headers: { authorization: 'Bearer anything' } })).status).toBe(401);
  });
});

describe('bind address', () => {
  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.0.2.2', 'example.com', '128.0.0.1', '127.0.0.1.nip.io']) expect(isLoopbackHost(h)).toBe(false);
  });

  it('refuses a non-loopback host without a key, allows it with one', () => {
    expect(() => assertSafeBind({ host: '0.0.0.0', apiKey: undefined })).toThrow(/HEARTH_API_KEY/);
    expect(() => assertSafeBind({ host: '0.0.0.0', apiKey: 'k' })).not.toThrow();
    expect(() => loadSettings({ HEARTH_HOST: '::' })).toThrow(/HEARTH_API_KEY/);
    expect(loadSettings({ HEARTH_HOST: '::', HEARTH_API_KEY: 'k' }).host).toBe('::');
    expect(loadSettings({}).host).toBe('127.0.0.1');
  });
});
