import { mkdtemp, rm, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { Hearth } from '../../src/hearth.ts';
import { loadSettings } from '../../src/config/index.ts';
import { TEMPLATE_IMAGES_DIR } from './template.ts';
import { NO_STEM_CELLS } from './test-settings.ts';

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface TestHearth {
  hearth: Hearth;
  url: string;
  dataDir: string;
  api<T = any>(method: string, urlPath: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse<T>>;
  deploy(name: string, source: string, config?: unknown): Promise<ApiResponse>;
  invoke(name: string, event?: unknown): Promise<ApiResponse>;
  close(): Promise<void>;
}

async function startedIn(dataDir: string, opts: { env?: Record<string, string>; functionsDir?: string }): Promise<Hearth> {
  const settings = loadSettings(
    { HEARTH_PORT: '0', HEARTH_HOST: '127.0.0.1', HEARTH_DATA_DIR: dataDir, HEARTH_FUNCTIONS_DIR: opts.functionsDir ?? '', ...NO_STEM_CELLS, ...opts.env },
    process.cwd(),
  );
  const hearth = new Hearth(settings, () => undefined);
  await hearth.start();
  return hearth;
}

/**
 * Starts a real Hearth (its own redis-server, runc containers) on a free loopback port with a
 * fresh data dir. The base image layer is hard-linked from a template built once per test run,
 * so each Hearth does not recompress node.
 */
export async function startHearth(opts: {
  env?: Record<string, string>;
  functionsDir?: string;
  /** Reuse a data dir (a restart); it is left in place on close unless `removeDataDir`. */
  dataDir?: string;
  removeDataDir?: boolean;
} = {}): Promise<TestHearth> {
  // Short path: the managed Redis listens on a unix socket inside it (sun_path is 107 bytes).
  const dataDir = opts.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'hearth-t-')));
  if (!existsSync(path.join(dataDir, 'images')) && existsSync(TEMPLATE_IMAGES_DIR)) {
    await mkdir(dataDir, { recursive: true });
    execFileSync('cp', ['-al', TEMPLATE_IMAGES_DIR, path.join(dataDir, 'images')]);
  }
  const hearth = await startedIn(dataDir, opts).catch(async (err: unknown) => {
    // A start meant to fail (bad settings) must not leave the data dir this helper made.
    if (!opts.dataDir || opts.removeDataDir) await rm(dataDir, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  });
  const url = hearth.url;

  async function api<T>(method: string, urlPath: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
    }
    const res = await fetch(url + urlPath, init);
    const text = await res.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, headers: res.headers, body: parsed as T, text };
  }

  let closed = false;
  return {
    hearth,
    url,
    dataDir,
    api,
    deploy: (name, source, config) => api('POST', '/v1/functions', { name, source, ...(config ? { config } : {}) }),
    invoke: (name, event) => api('POST', `/v1/functions/${name}/invoke`, event === undefined ? undefined : JSON.stringify(event)),
    async close() {
      if (closed) return;
      closed = true;
      await hearth.close();
      if (!opts.dataDir || opts.removeDataDir) await rm(dataDir, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}
