import { describe, expect, it } from 'vitest';
import { DirectDispatch } from '../../src/scheduler/direct-dispatch.ts';
import type { Pool } from '../../src/pool/index.ts';
import type { RecordWriter } from '../../src/scheduler/record-writer.ts';
import type { FunctionVersion } from '../../src/catalog/index.ts';

const fn = { name: 'f', version: 1, digest: 'sha256:0', config: { timeoutMs: 1000 } } as unknown as FunctionVersion;

/** A pool whose every direct run answers at once, counting the runs. */
function fakePool() {
  const pool = {
    runs: 0,
    tryRun() {
      pool.runs++;
      return Promise.resolve({ outcome: { ok: true, result: 1, durationMs: 1, logs: [] }, coldStart: false, containerId: 'c' });
    },
  };
  return pool;
}

describe('DirectDispatch', () => {
  it('runs nothing while Redis is full, and runs again once it is not', async () => {
    const pool = fakePool();
    const records = { write: () => undefined };
    let full = true;
    const direct = new DirectDispatch({ pool: pool as unknown as Pool, records: records as unknown as RecordWriter, redisFull: () => full });
    expect(direct.tryRun(fn, { invocationId: 'a', event: null, keepResult: false })).toBeUndefined();
    expect(pool.runs).toBe(0);
    full = false;
    const result = await direct.tryRun(fn, { invocationId: 'b', event: null, keepResult: false });
    expect(result).toMatchObject({ invocationId: 'b', ok: true, result: 1, direct: true });
    expect(pool.runs).toBe(1);
  });
});
