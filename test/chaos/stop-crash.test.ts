import { afterEach, describe, expect, it } from 'vitest';
import { canRunContainers, spawnerPids, waitFor } from '../helpers/host.ts';
import { SLEEPER, finalRecords, leftovers, redisServersOf, stopFixture, stopStrayRedis, type StopFixture } from './stop-helpers.ts';

let f: StopFixture | undefined;
afterEach(async () => {
  await f?.cleanup();
  f = undefined;
});

describe.skipIf(!canRunContainers)('server crash', () => {
  it('SIGKILL under async load: after a restart every accepted invocation succeeds, and the restart removes what the dead one left', async () => {
    f = await stopFixture();
    let h = await f.start();
    await f.api(h, 'POST', '/v1/functions', { name: 'sleeper', source: SLEEPER, config: { maxContainers: 3 } });
    const ids: string[] = [];
    // Submissions keep arriving while the server dies: the ones answered 202 are the promise to keep.
    const submitting = (async () => {
      for (let n = 0; n < 40; n++) {
        const res = await f!.api(h, 'POST', '/v1/functions/sleeper/invocations', { ms: 150, n }).catch(() => undefined);
        if (!res) return;
        if (res.status === 202) ids.push(res.body.id);
      }
    })();
    await waitFor(() => ids.length >= 15, 20_000, 20);
    await h.kill();
    await submitting;
    // Until the managed Redis dies with its owner, stop it as its owner would have (it keeps its AOF).
    stopStrayRedis(f.dataDir);
    await waitFor(() => redisServersOf(f!.dataDir).length === 0, 10_000);
    // Its process spawner sees the IPC channel close and exits by itself.
    await waitFor(() => spawnerPids(f!.instance).length === 0, 5_000);

    h = await f.start();
    const records = await finalRecords(f, h, ids, 45_000);
    expect(records.map((r) => r.status)).toEqual(ids.map(() => 'succeeded'));
    expect(new Set(records.map((r) => r.result.n)).size).toBe(ids.length);
    await h.stop();
    expect(leftovers(f)).toEqual([]);
    console.log(JSON.stringify({ case: 'SIGKILL under async load', accepted: ids.length, succeeded: records.length }));
  });
});
