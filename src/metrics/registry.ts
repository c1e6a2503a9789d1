import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Hearth's Prometheus registry and its named instruments. One per process: prom-client
 * instruments are process-wide by nature, and a scrape describes the process it reaches.
 * Gauges that describe live state (pool, queues, store, Redis) read it at scrape time from
 * sources wired in by `bindMetricSources` (see sources.ts), so the hot path only counts.
 */
export const registry = new Registry();
// Node's own health: event-loop lag, heap, GC, handles (the server process's runtime health).
// The lag is sampled every 100 ms, not prom-client's 10: its timer woke an idle server 100 times
// a second (most of its wake-ups); a scrape every 15 s still gets 150 samples.
collectDefaultMetrics({ register: registry, prefix: 'hearth_', eventLoopMonitoringPrecision: 100 });

const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900];

export const invocationsTotal = new Counter({
  name: 'hearth_invocations_total',
  help: 'Invocations finished, by function and outcome (success or the error code)',
  labelNames: ['function', 'outcome'] as const,
  registers: [registry],
});

export const invocationDuration = new Histogram({
  name: 'hearth_invocation_duration_seconds',
  help: 'Time the function ran inside its container, by function',
  labelNames: ['function'] as const,
  buckets: DURATION_BUCKETS,
  registers: [registry],
});

export const queueWait = new Histogram({
  name: 'hearth_queue_wait_seconds',
  help: 'Time an invocation waited in its queue before a worker took it, by function',
  labelNames: ['function'] as const,
  buckets: DURATION_BUCKETS,
  registers: [registry],
});

export const coldStartsTotal = new Counter({
  name: 'hearth_cold_starts_total',
  help: 'Invocations that had to start a new container, by function',
  labelNames: ['function'] as const,
  registers: [registry],
});

/** Every sample carries `node` (HEARTH_NODE_NAME): one Prometheus scraping a cluster tells the nodes apart. */
export function labelMetricsWithNode(node: string): void {
  registry.setDefaultLabels({ node });
}

export const syncDispatchTotal = new Counter({
  name: 'hearth_sync_dispatch_total',
  help: 'Sync invocations by how they reached a container: direct (a free warm slot here, nothing queued) or queued',
  labelNames: ['function', 'path'] as const,
  registers: [registry],
});
