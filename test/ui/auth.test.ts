import { describe, expect, it } from 'vitest';
import { createApp, type GatewayServices } from '../../src/gateway/index.ts';
import { uiToken } from '../../src/gateway/ui/auth.ts';

// Only the static parts are requested here: no handler touches the (absent) services.
const app = (apiKey?: string) => createApp({ ...(apiKey ? { apiKey } : {}) } as GatewayServices);

describe('dashboard access', () => {
  it('is open without an API key, with its assets served by the gateway', async () => {
    const page = await app().request('/ui');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script src="/ui/app.js"');
    const chart = await app().request('/ui/chart.js');
    expect(chart.status).toBe(200);
    expect(chart.headers.get('content-type')).toMatch(/javascript/);
    expect((await chart.text()).length).toBeGreaterThan(100_000);
  });

  it('with a key: redirects pages to the login form, and takes the Bearer header or the session cookie', async () => {
    const guarded = app('k3y');
    expect((await guarded.request('/ui/app.js')).status).toBe(302);
    expect((await guarded.request('/ui/login')).status).toBe(200);
    expect((await guarded.request('/ui', { headers: { authorization: 'Bearer k3y' } })).status).toBe(200);
    expect((await guarded.request('/ui', { headers: { authorization: 'Bearer k3y-not' } })).status).toBe(302);

    const login = await guarded.request('/ui/login', { method: 'POST', body: new URLSearchParams({ key: 'k3y' }) });
    expect(login.status).toBe(302);
    const cookie = login.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).not.toContain('k3y');
    expect(cookie).toContain(uiToken('k3y'));
    const session = cookie.split(';')[0]!;
    expect((await guarded.request('/ui', { headers: { cookie: session } })).status).toBe(200);
    expect((await guarded.request('/ui', { headers: { cookie: `hearth_ui=${uiToken('other')}` } })).status).toBe(302);
  });
});
