import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext } from 'playwright-core';
import { startHearth, type TestHearth } from '../helpers/hearth.ts';

const KEY = 'ui-test-key';
const auth = { authorization: `Bearer ${KEY}` };
const SCREENSHOT = path.resolve('test-output', 'dashboard.png');

let h: TestHearth;
let browser: BrowserContext;
let profile: string;

beforeAll(async () => {
  h = await startHearth({ env: { HEARTH_API_KEY: KEY } });
  profile = await mkdtemp(path.join(os.tmpdir(), 'hearth-chromium-'));
  // Debian's chromium, not a downloaded build; a fresh profile each run.
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
});

afterAll(async () => {
  await browser?.close();
  await h?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
});

describe('dashboard at /ui', () => {
  it('is behind the API key when one is set', async () => {
    const page = await h.api('GET', '/ui/api/summary');
    expect(page.status).toBe(401);
    expect(page.body.error.code).toBe('unauthorized');
    const redirect = await fetch(`${h.url}/ui`, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe('/ui/login');
    expect((await h.api('GET', '/ui/api/summary', undefined, auth)).status).toBe(200);
    const wrong = await fetch(`${h.url}/ui/login`, { method: 'POST', body: new URLSearchParams({ key: 'nope' }), redirect: 'manual' });
    expect(wrong.headers.get('location')).toBe('/ui/login?failed=1');
    expect(wrong.headers.get('set-cookie')).toBeNull();
  });

  it('shows functions, warm containers, the invocation and the charts after deploy and invoke', async () => {
    expect((await h.api('POST', '/v1/functions', { name: 'ui-hello', source: 'export default (e) => { console.log("hello from", e.who); return { hi: e.who }; }' }, auth)).status).toBe(201);

    const page = await browser.newPage();
    await page.goto(`${h.url}/ui`);
    await page.waitForURL(/\/ui\/login$/);
    await page.fill('input[name=key]', KEY);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/ui$/);

    const row = page.locator('#functions tr.function-row', { hasText: 'ui-hello' });
    await row.waitFor();
    expect(await row.locator('td').nth(1).textContent()).toBe('v1');

    for (const who of ['ada', 'grace', 'linus']) {
      const res = await h.api('POST', '/v1/functions/ui-hello/invoke', { who }, auth);
      expect(res.status).toBe(200);
    }
    // The page polls every 2 s: wait for the invocations and the charts to show them.
    await page.locator('#recent tr.invocation-row').nth(2).waitFor({ timeout: 15_000 });
    await page.waitForFunction(() => Number(document.body.dataset.chartInvocations) >= 3, undefined, { timeout: 15_000 });
    expect(await page.locator('#recent tr.invocation-row .status').first().textContent()).toBe('succeeded');
    expect(await row.locator('.warm-idle').textContent()).toBe('1');
    // The node list: this node alone, marked as the one serving the page, holding the warm container.
    const node = page.locator('#nodes tr.node-row');
    await page.waitForFunction(() => document.querySelector('#nodes tr.node-row .node-containers')?.textContent === '1', undefined, { timeout: 15_000 });
    expect(await node.count()).toBe(1);
    expect(await node.locator('.node-id').textContent()).toMatch(/\(this node\)$/);
    // Chart.js drew into the canvases.
    const drawn = await page.evaluate(() => ['rate-chart', 'latency-chart'].map((id) => {
      const canvas = document.getElementById(id) as HTMLCanvasElement;
      const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let painted = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i]! > 0) painted++;
      return painted;
    }));
    expect(drawn.every((n) => n > 100)).toBe(true);

    // The newest invocation links to its logs.
    await page.locator('#recent tr.invocation-row a.logs-link').first().click();
    await page.locator('#logs-body', { hasText: 'hello from linus' }).waitFor();

    await mkdir(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect((await stat(SCREENSHOT)).size).toBeGreaterThan(10_000);
    await page.close();
  });
});
