import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHearth, type TestHearth } from '../helpers/hearth.ts';
import { waitFor } from '../helpers/host.ts';

/** A sync caller has its answer before the record (with the logs) is written: wait for it. */
async function logsOf(id: string): Promise<{ line: string }[]> {
  let logs: { line: string }[] = [];
  await waitFor(async () => {
    const res = await h.api('GET', `/v1/invocations/${id}/logs`);
    logs = res.body?.logs ?? [];
    return res.status === 200;
  }, 5000);
  return logs;
}

let h: TestHearth;

beforeAll(async () => {
  h = await startHearth();
});

afterAll(async () => {
  await h?.close();
});

describe('logs', () => {
  it('serves a function\'s recent logs, tagged with invocation ids, filtered by since and limit', async () => {
    await h.deploy('talker', 'export default (e) => { for (let i = 0; i < 3; i++) console.log(`${e.n}:${i}`); console.error("done", e.n); return null; }');
    await logsOf((await h.invoke('talker', { n: 1 })).headers.get('x-hearth-invocation-id')!);
    const before = Date.now();
    await new Promise((r) => setTimeout(r, 20));
    const second = await h.invoke('talker', { n: 2 });
    await logsOf(second.headers.get('x-hearth-invocation-id')!);
    const all = await h.api('GET', '/v1/functions/talker/logs');
    expect(all.body.logs.map((l: { line: string }) => l.line)).toEqual(['1:0', '1:1', '1:2', 'done 1', '2:0', '2:1', '2:2', 'done 2']);
    const recent = await h.api('GET', `/v1/functions/talker/logs?since=${before}&limit=2`);
    expect(recent.body.logs).toEqual([
      { invocationId: second.headers.get('x-hearth-invocation-id'), time: expect.any(Number), stream: 'stdout', line: '2:0' },
      { invocationId: second.headers.get('x-hearth-invocation-id'), time: expect.any(Number), stream: 'stdout', line: '2:1' },
    ]);
    expect((await h.api('GET', `/v1/functions/talker/logs?since=${new Date(before).toISOString()}`)).body.logs).toHaveLength(4);
  });

  it('caps a flood of output per invocation and marks the cut', async () => {
    await h.deploy('flood', 'export default () => { const l = "x".repeat(1000); for (let i = 0; i < 20000; i++) console.log(l); return "ok"; }');
    const res = await h.invoke('flood');
    expect(res.status).toBe(200);
    const logs = await logsOf(res.headers.get('x-hearth-invocation-id')!);
    expect(logs.length).toBeLessThan(1000);
    expect(logs.at(-1)!.line).toMatch(/log output truncated/);
  });
});
