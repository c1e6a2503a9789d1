export { registry, invocationsTotal, invocationDuration, queueWait, coldStartsTotal, labelMetricsWithNode, syncDispatchTotal } from './registry.ts';
export { bindMetricSources } from './sources.ts';
export type { MetricSources } from './sources.ts';
export { observeInvocation, recentInvocations } from './observe.ts';
export { RecentInvocations, percentile } from './recent.ts';
export type { RecentInvocation, StatsBucket } from './recent.ts';
