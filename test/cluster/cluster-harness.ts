import { rm } from 'node:fs/promises';
import { prepareDataDir, startChildHearth, startSharedRedis, type ChildHearth } from '../helpers/child-hearth.ts';
import { startRegistry, type TestRegistry } from '../image/registry-server.ts';

export interface ApiAnswer<T = any> { // any: test bodies are checked field by field
  status: number;
  body: T;
}

/** One Hearth child process of the cluster, with its own data dir and port. */
export interface ClusterNode {
  name: string;
  url: string;
  dataDir: string;
  api<T = any>(method: string, urlPath: string, body?: unknown): Promise<ApiAnswer<T>>; // any: see ApiAnswer
  deploy(name: string, source: string, config?: unknown): Promise<ApiAnswer>;
  invoke(name: string, event?: unknown): Promise<ApiAnswer>;
  /** SIGKILL: the machine is gone, nothing is cleaned up. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export interface TestCluster {
  redisUrl: string;
  registry: TestRegistry;
  nodes: ClusterNode[];
  /** Starts one more node on the same Redis; `registry: false` gives it no HEARTH_REGISTRY. */
  addNode(name: string, opts?: { registry?: boolean }): Promise<ClusterNode>;
  close(): Promise<void>;
}

/** The same key on every node: a secret stored by one is read by all. */
const SECRET_KEY = 'cluster-test-secret-key-0123456789abcdef';

async function request<T>(url: string, method: string, body?: unknown): Promise<ApiAnswer<T>> {
  const res = await fetch(url, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed as T };
}

/**
 * A cluster on one machine: one redis-server (unix socket) and one registry (Debian's
 * docker-registry on a loopback port) started by the test, and Hearth child processes, each
 * with its own data dir, port and HEARTH_NODE_NAME, as separate machines would have.
 */
export async function startCluster(names: string[]): Promise<TestCluster> {
  const redis = await startSharedRedis();
  const registry = await startRegistry();
  const nodes: ClusterNode[] = [];
  const children: { child: ChildHearth; dataDir: string; env: Record<string, string>; killed: boolean }[] = [];

  async function addNode(name: string, opts: { registry?: boolean } = {}): Promise<ClusterNode> {
    const dataDir = await prepareDataDir();
    const env: Record<string, string> = {
      REDIS_URL: redis.url,
      HEARTH_DATA_DIR: dataDir,
      HEARTH_NODE_NAME: name,
      HEARTH_SECRET_KEY: SECRET_KEY,
      HEARTH_JOB_LOCK_MS: '5000',
    };
    if (opts.registry !== false) env.HEARTH_REGISTRY = `${registry.host}/cluster`;
    const child = await startChildHearth(env);
    const entry = { child, dataDir, env, killed: false };
    children.push(entry);
    const node: ClusterNode = {
      name,
      url: child.url,
      dataDir,
      api: (method, urlPath, body) => request(child.url + urlPath, method, body),
      deploy: (fn, source, config) => request(`${child.url}/v1/functions`, 'POST', { name: fn, source, ...(config ? { config } : {}) }),
      invoke: (fn, event) => request(`${child.url}/v1/functions/${fn}/invoke`, 'POST', event ?? null),
      kill: () => {
        entry.killed = true;
        return child.kill();
      },
      stop: () => child.stop(),
    };
    nodes.push(node);
    return node;
  }

  try {
    // One at a time: each start compiles the server and mounts its base layer; two cores.
    for (const name of names) await addNode(name);
  } catch (err) {
    for (const { child } of children) await child.kill();
    await registry.close();
    await redis.close();
    throw err;
  }

  return {
    redisUrl: redis.url,
    registry,
    nodes,
    addNode,
    async close() {
      await Promise.all(children.map(({ child }) => child.stop()));
      // A SIGKILLed node left its containers and mounts behind, as a crashed machine would: its
      // restart on the same data dir cleans them up (the product's own recovery), then it stops.
      for (const { env, killed } of children) {
        if (killed) await (await startChildHearth(env)).stop();
      }
      for (const { dataDir } of children) await rm(dataDir, { recursive: true, force: true }).catch(() => undefined);
      await registry.close();
      await redis.close();
    },
  };
}

/** Polls `probe` every `everyMs` until it returns something truthy; returns it and how long it took. */
export async function waitFor<T>(probe: () => Promise<T | undefined | false>, timeoutMs: number, everyMs = 20): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  for (;;) {
    const value = await probe();
    if (value) return { value: value as T, ms: performance.now() - started };
    if (performance.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
