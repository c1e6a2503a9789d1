import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import { setCookie } from 'hono/cookie';
import { HearthError } from '../../errors/index.ts';
import { recentInvocations } from '../../metrics/index.ts';
import type { GatewayServices } from '../services.ts';
import { UI_COOKIE, sameSecret, uiAuth, uiToken } from './auth.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
// Served from the installed package: the dashboard needs no CDN and no separate server.
const chartJs = path.join(path.dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js');

const assets: Record<string, { file: string; type: string }> = {
  '/ui': { file: path.join(here, 'static/index.html'), type: 'text/html; charset=utf-8' },
  '/ui/app.js': { file: path.join(here, 'static/app.js'), type: 'text/javascript; charset=utf-8' },
  '/ui/style.css': { file: path.join(here, 'static/style.css'), type: 'text/css; charset=utf-8' },
  '/ui/chart.js': { file: chartJs, type: 'text/javascript; charset=utf-8' },
  '/ui/login': { file: path.join(here, 'static/login.html'), type: 'text/html; charset=utf-8' },
};

/** The dashboard at /ui: static page + one summary endpoint it polls. */
export function uiRoutes(services: GatewayServices & { apiKey?: string }): Hono {
  const app = new Hono();
  const cache = new Map<string, string>();
  const asset = (route: string) => {
    const a = assets[route]!;
    let body = cache.get(route);
    if (body === undefined) {
      body = readFileSync(a.file, 'utf8');
      cache.set(route, body);
    }
    return new Response(body, { headers: { 'content-type': a.type, 'cache-control': 'no-cache' } });
  };

  app.use('/ui', uiAuth(services.apiKey));
  app.use('/ui/*', uiAuth(services.apiKey));
  app.get('/ui/', (c) => c.redirect('/ui', 301));
  for (const route of Object.keys(assets)) app.get(route, () => asset(route));

  app.post('/ui/login', async (c) => {
    const key = (await c.req.parseBody())['key'];
    if (!services.apiKey) return c.redirect('/ui', 302);
    if (typeof key !== 'string' || !sameSecret(key, services.apiKey)) return c.redirect('/ui/login?failed=1', 302);
    setCookie(c, UI_COOKIE, uiToken(services.apiKey), { httpOnly: true, sameSite: 'Strict', path: '/ui' });
    return c.redirect('/ui', 302);
  });

  app.get('/ui/api/summary', async (c) => {
    const [functions, pool] = [await services.functions.list(), services.pool.snapshot()];
    // The node list is shown when it can be had; the rest of the page does not wait on it.
    const nodes = services.cluster ? await services.cluster.nodes().catch(() => []) : [];
    const warm = (name: string, state: string) => pool.filter((p) => p.function === name && p.state === state).length;
    return c.json({
      now: Date.now(),
      functions: functions.map((f) => ({
        name: f.name,
        version: f.version,
        digest: f.digest,
        updatedAt: f.updatedAt,
        warm: { idle: warm(f.name, 'idle'), busy: warm(f.name, 'busy'), starting: warm(f.name, 'starting') },
      })),
      node: services.cluster?.id ?? null,
      nodes,
      stats: recentInvocations.stats(),
      recent: recentInvocations.latest(50).map(({ logs, ...rest }) => ({ ...rest, logLines: logs.length })),
    });
  });

  app.get('/ui/api/invocations/:id', (c) => {
    const found = recentInvocations.find(c.req.param('id'));
    if (!found) throw new HearthError('not_found', `invocation ${c.req.param('id')} is not among the recent ones`);
    return c.json(found);
  });

  return app;
}
