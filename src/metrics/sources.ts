import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Gauge } from 'prom-client';
import { registry } from './registry.ts';

/** Live state read at scrape time. Each source is optional: a missing one leaves its gauge empty. */
export interface MetricSources {
  /** Pool.snapshot(): containers and their states. */
  pool?: () => { function: string; state: string }[];
  /** Stem cells: started containers not yet bound to a function, ready to become any function's container. */
  stemCells?: () => number;
  /** Queue counts per function (waiting / active / delayed). */
  queues?: () => Promise<{ function: string; counts: Record<string, number> }[]>;
  /** Directory of the image store's blobs, summed for hearth_image_store_bytes. */
  imageBlobsDir?: string;
  /** PING against Redis; resolves when it answers. */
  redisPing?: () => Promise<unknown>;
  /** The OCI runtime's version, as reported at start. */
  runtimeVersion?: string;
}

let sources: MetricSources = {};

/** Wires the live sources (Hearth calls this once started); returns an unbind for close(). */
export function bindMetricSources(next: MetricSources): () => void {
  sources = next;
  return () => {
    if (sources === next) sources = {};
  };
}

new Gauge({
  name: 'hearth_pool_containers',
  help: 'Warm containers by function and state (starting, idle, busy)',
  labelNames: ['function', 'state'] as const,
  registers: [registry],
  collect() {
    this.reset();
    const counts = new Map<string, number>();
    for (const c of sources.pool?.() ?? []) {
      const key = `${c.function}\u0000${c.state}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    for (const [key, n] of counts) {
      const [fn, state] = key.split('\u0000') as [string, string];
      this.set({ function: fn, state }, n);
    }
  },
});

new Gauge({
  name: 'hearth_stem_cells',
  help: 'Pre-started stem-cell containers ready to take any function',
  registers: [registry],
  collect() {
    this.set(sources.stemCells?.() ?? 0);
  },
});

new Gauge({
  name: 'hearth_queue_depth',
  help: 'Invocations in each function queue, by state (waiting, active, delayed)',
  labelNames: ['function', 'state'] as const,
  registers: [registry],
  async collect() {
    this.reset();
    const queues = await sources.queues?.().catch(() => []) ?? [];
    for (const q of queues) for (const [state, n] of Object.entries(q.counts)) this.set({ function: q.function, state }, n);
  },
});

new Gauge({
  name: 'hearth_image_store_bytes',
  help: 'Bytes of blobs (compressed layers, configs, manifests) in the local image store',
  registers: [registry],
  async collect() {
    if (sources.imageBlobsDir) this.set(await dirBytes(sources.imageBlobsDir));
  },
});

const redisUp = new Gauge({ name: 'hearth_redis_up', help: '1 when Redis answered PING within 1 s', registers: [registry] });
new Gauge({
  name: 'hearth_redis_ping_seconds',
  help: 'Round trip of a PING to Redis at scrape time',
  registers: [registry],
  async collect() {
    if (!sources.redisPing) return;
    const started = performance.now();
    const ok = await Promise.race([
      sources.redisPing().then(() => true, () => false),
      new Promise<boolean>((r) => setTimeout(() => r(false), 1000).unref()),
    ]);
    redisUp.set(ok ? 1 : 0);
    if (ok) this.set((performance.now() - started) / 1000);
  },
});

new Gauge({
  name: 'hearth_runtime_info',
  help: 'The OCI runtime in use (1 once it answered at start), labelled with its version',
  labelNames: ['runtime_version'] as const,
  registers: [registry],
  collect() {
    this.reset();
    if (sources.runtimeVersion) this.set({ runtime_version: sources.runtimeVersion }, 1);
  },
});

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += await dirBytes(p);
    else if (e.isFile()) total += await stat(p).then((s) => s.size, () => 0);
  }
  return total;
}
