import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { rehearse } from '../../src/runtime/agent/rehearsal.ts';
import type { Loaded } from '../../src/runtime/agent/find-handler.ts';
import type { ContextFacts } from '../../src/runtime/agent/context.ts';
import type { InvokeMessage } from '../../src/runtime/protocol.ts';

describe('a stem cell\'s rehearsal', () => {
  it('loads its no-op bundle as a function is loaded, runs it through the invocation path, and leaves nothing', async () => {
    const env = { ...process.env };
    const seen: { target: Loaded | undefined; m: InvokeMessage; facts: ContextFacts; value?: unknown }[] = [];
    await rehearse({
      runEvent: async (target, m, facts) => {
        const call = { target, m, facts, value: undefined as unknown };
        seen.push(call);
        if (target?.kind === 'event') call.value = await target.handler(m.event, {} as never, () => {});
        return '';
      },
    });
    expect(seen).toHaveLength(1);
    // The esbuild shape of `export default async (event) => …`: found as a Hearth default export.
    expect(seen[0]!.target).toMatchObject({ kind: 'event', style: 'hearth' });
    expect(seen[0]!.value).toEqual({ rehearsed: true, event: { n: 1 } });
    // Its own facts: the function's (memory, region) are read at its first real invocation.
    expect(seen[0]!.facts).toEqual({ memoryMb: '', region: '' });
    expect(existsSync('/tmp/.hearth-rehearsal')).toBe(false);
    expect(Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes('.hearth-rehearsal'))).toEqual([]);
    expect(process.env).toEqual(env);
  });

  it('never throws: a path that fails stays cold, the cell still says ready', async () => {
    await expect(rehearse({ runEvent: () => Promise.reject(new Error('boom')) })).resolves.toBeUndefined();
    expect(existsSync('/tmp/.hearth-rehearsal')).toBe(false);
  });
});
