import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHearth, type TestHearth } from '../helpers/hearth.ts';

let h: TestHearth;

beforeAll(async () => {
  h = await startHearth();
});

afterAll(async () => {
  await h?.close();
});

/** Value of one sample line (`name{labels} value`), undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][\w:]*)(\{(.*)\})? (\S+)$/);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[4]);
  }
  return undefined;
}

describe('GET /metrics', () => {
  it('counts invocations by function and outcome, cold starts, durations and queue wait', async () => {
    await h.deploy('m-ok', 'export default () => 1');
    await h.deploy('m-fail', 'export default () => { throw new Error("no") }');
    expect((await h.invoke('m-ok', {})).status).toBe(200);
    expect((await h.invoke('m-ok', {})).status).toBe(200);
    expect((await h.invoke('m-fail', {})).status).toBe(500);

    const res = await h.api('GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = res.text;
    expect(sample(text, 'hearth_invocations_total', { function: 'm-ok', outcome: 'success' })).toBe(2);
    expect(sample(text, 'hearth_invocations_total', { function: 'm-fail', outcome: 'function_error' })).toBe(1);
    expect(sample(text, 'hearth_cold_starts_total', { function: 'm-ok' })).toBe(1);
    expect(sample(text, 'hearth_invocation_duration_seconds_count', { function: 'm-ok' })).toBe(2);
    expect(sample(text, 'hearth_queue_wait_seconds_count', { function: 'm-fail' })).toBe(1);
  });

  it('reports pool containers by state, queue depth, image store bytes, Redis and runtime health', async () => {
    const text = (await h.api('GET', '/metrics')).text;
    expect(sample(text, 'hearth_pool_containers', { function: 'm-ok', state: 'idle' })).toBe(1);
    expect(sample(text, 'hearth_queue_depth', { function: 'm-ok', state: 'waiting' })).toBe(0);
    expect(sample(text, 'hearth_stem_cells')).toBeGreaterThanOrEqual(0);
    // The base layer alone holds node: tens of MB.
    expect(sample(text, 'hearth_image_store_bytes')).toBeGreaterThan(10_000_000);
    expect(sample(text, 'hearth_redis_up')).toBe(1);
    expect(sample(text, 'hearth_redis_ping_seconds')).toBeGreaterThan(0);
    expect(text).toMatch(/^hearth_runtime_info\{runtime_version="[^"]+",node="[^"]+"\} 1$/m);
    // Every sample names its node, so one Prometheus can scrape a whole cluster.
    const nodeId = ((await h.api('GET', '/v1/nodes')).body as { nodes: { id: string }[] }).nodes[0]!.id;
    expect(sample(text, 'hearth_invocations_total', { function: 'm-ok', outcome: 'success', node: nodeId })).toBe(2);
    expect(sample(text, 'hearth_nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
  });
});
