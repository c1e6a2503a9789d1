import { afterEach, describe, expect, it } from 'vitest';
import { canRunContainers, waitFor } from '../helpers/host.ts';
import { SLEEPER, finalRecords, inFlight, leftovers, nonJsonLines, signalGroup, stopFixture, timeToExit, type StopFixture } from './stop-helpers.ts';

let f: StopFixture | undefined;
afterEach(async () => {
  await f?.cleanup();
  f = undefined;
});

/** Grace period the tests give a stop; the stop may take it plus container and Redis clean-up. */
const GRACE_MS = 3_000;
const CLEANUP_MS = 4_000;

describe.skipIf(!canRunContainers)('stop signals', () => {
  it('a group SIGTERM lets in-flight sync and async invocations finish, leaves nothing behind, and queued async jobs run after restart', async () => {
    f = await stopFixture();
    let h = await f.start({ HEARTH_SHUTDOWN_TIMEOUT_MS: String(GRACE_MS) });
    expect((await f.api(h, 'POST', '/v1/functions', { name: 'sleeper', source: SLEEPER, config: { maxContainers: 3 } })).status).toBe(201);
    // Two sync callers and one async job take the three containers; four more async jobs wait in the queue.
    const sync = [1, 2].map((n) => f!.api(h, 'POST', '/v1/functions/sleeper/invoke', { ms: 1_200, n }));
    const ids: string[] = [];
    for (let n = 0; n < 5; n++) ids.push((await f.api(h, 'POST', '/v1/functions/sleeper/invocations', { ms: 1_200, n })).body.id);
    await inFlight(f, h, 3);

    signalGroup(h, 'SIGTERM');
    const stopMs = await timeToExit(h, GRACE_MS + CLEANUP_MS);
    const answers = await Promise.all(sync);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    expect(h.child.exitCode).toBe(0);
    expect(leftovers(f)).toEqual([]);
    expect(nonJsonLines(h.output())).toEqual([]);
    console.log(JSON.stringify({ case: 'group SIGTERM, work finishes', stopMs }));
    console.log(h.output().split('\n').filter((l) => l.includes('"shutdown')).join('\n'));

    h = await f.start({ HEARTH_SHUTDOWN_TIMEOUT_MS: String(GRACE_MS) });
    const records = await finalRecords(f, h, ids, 30_000);
    expect(records.map((r) => r.status)).toEqual(ids.map(() => 'succeeded'));
  });

  it('past the grace period the running attempt loses its container, its job goes back to the queue and succeeds after restart', async () => {
    f = await stopFixture();
    let h = await f.start({ HEARTH_SHUTDOWN_TIMEOUT_MS: '1000' });
    await f.api(h, 'POST', '/v1/functions', { name: 'sleeper', source: SLEEPER, config: { timeoutMs: 60_000 } });
    const { body } = await f.api(h, 'POST', '/v1/functions/sleeper/invocations', { ms: 4_000 });
    await inFlight(f, h, 1);

    // To the server alone (as `kill <pid>` or a supervisor does): its Redis stays up until the server stops it, last.
    h.child.kill('SIGTERM');
    const stopMs = await timeToExit(h, 1_000 + CLEANUP_MS);
    expect(leftovers(f)).toEqual([]);
    expect(nonJsonLines(h.output())).toEqual([]);
    expect(h.output()).toContain('grace period over');
    console.log(JSON.stringify({ case: 'SIGTERM, grace period runs out', stopMs }));

    h = await f.start();
    // Back in the queue, not failed: the record says queued until a worker takes it again.
    const between = await f.api(h, 'GET', `/v1/invocations/${body.id}`);
    expect(['queued', 'running']).toContain(between.body.status);
    const [record] = await finalRecords(f, h, [body.id], 30_000);
    expect(record.status).toBe('succeeded');
    // The cut-short start is taken back: the rerun is the same attempt, not a second one.
    expect(record.attempts).toBe(1);
  });

  it('a second SIGTERM forces the stop at once: containers and mounts removed, the job is not lost', async () => {
    f = await stopFixture();
    let h = await f.start({ HEARTH_SHUTDOWN_TIMEOUT_MS: '30000' });
    await f.api(h, 'POST', '/v1/functions', { name: 'sleeper', source: SLEEPER, config: { timeoutMs: 60_000 } });
    const { body } = await f.api(h, 'POST', '/v1/functions/sleeper/invocations', { ms: 3_000 });
    await inFlight(f, h, 1);

    signalGroup(h, 'SIGTERM');
    // Later than the window in which a repeat counts as the same signal (npm forwards Ctrl-C).
    await new Promise((r) => setTimeout(r, 1_200));
    expect(h.child.exitCode).toBeNull();
    signalGroup(h, 'SIGTERM');
    const stopMs = await timeToExit(h, CLEANUP_MS);
    expect(h.child.exitCode).toBe(1);
    expect(leftovers(f)).toEqual([]);
    expect(nonJsonLines(h.output())).toEqual([]);
    console.log(JSON.stringify({ case: 'second SIGTERM forces', stopMs }));

    h = await f.start();
    const [record] = await finalRecords(f, h, [body.id], 30_000);
    expect(record.status).toBe('succeeded');
  });
});
