import { describe, expect, it } from 'vitest';
import { ClusterSync } from '../../src/cluster/cluster-sync.ts';
import type { FunctionRecord } from '../../src/catalog/index.ts';

const record = (name: string, secrets?: string[]): FunctionRecord => ({
  name, version: 1, digest: `sha256:${name}`, bundleBytes: 1, createdAt: '', versions: 1, updatedAt: '',
  config: { secrets } as FunctionRecord['config'],
});

function fixture(records: FunctionRecord[], active: string[] = []) {
  const calls: string[] = [];
  const sync = new ClusterSync({
    catalog: {
      invalidate: (n) => void calls.push(`invalidate ${n}`),
      invalidateAll: () => void calls.push('invalidateAll'),
      get: async (n) => records.find((r) => r.name === n),
      list: async () => records,
    },
    functions: {
      sync: async (r) => void calls.push(`sync ${r.name}`),
      forget: async (n) => void calls.push(`forget ${n}`),
      activeFunctions: () => active,
      unavailableFunctions: () => [],
      isUnavailable: () => false,
    },
    recycle: async (n) => void calls.push(`recycle ${n}`),
  });
  return { sync, calls };
}

describe('applying another node\'s change', () => {
  it('re-reads a changed function past the cache and brings this node in line', async () => {
    const { sync, calls } = fixture([record('f')]);
    await sync.apply({ kind: 'function', name: 'f' });
    expect(calls).toEqual(['invalidate f', 'sync f']);
  });

  it('forgets a function that no longer exists', async () => {
    const { sync, calls } = fixture([]);
    await sync.apply({ kind: 'function', name: 'gone' });
    expect(calls).toEqual(['invalidate gone', 'forget gone']);
  });

  it('recycles only the functions that mount a changed secret', async () => {
    const { sync, calls } = fixture([record('a', ['tok']), record('b', ['other']), record('c')]);
    await sync.apply({ kind: 'secret', name: 'tok' });
    expect(calls).toEqual(['recycle a']);
  });

  it('a resync syncs everything, recycles what mounts secrets and forgets what is gone', async () => {
    const { sync, calls } = fixture([record('a', ['tok']), record('b')], ['a', 'b', 'stale']);
    await sync.resync();
    expect(calls).toEqual(['invalidateAll', 'sync a', 'recycle a', 'sync b', 'forget stale']);
  });
});
