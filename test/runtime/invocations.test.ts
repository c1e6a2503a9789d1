/** Unit: the table of invocations in flight in one container, against a fake agent channel (no runc). */
import { describe, expect, it } from 'vitest';
import { InvocationTable } from '../../src/runtime/invocations.ts';
import type { HostMessage } from '../../src/runtime/protocol.ts';

function table(opts: { open?: boolean } = {}) {
  const sent: HostMessage[] = [];
  const deadlines: string[] = [];
  const t = new InvocationTable({
    containerId: 'c1',
    send: (m) => {
      JSON.stringify(m); // the real channel throws on what JSON cannot carry
      if (opts.open === false) return false;
      sent.push(m);
      return true;
    },
    onDeadline: async (invocationId) => {
      deadlines.push(invocationId);
    },
  });
  return { t, sent, deadlines };
}

const soon = (ms = 5000) => Date.now() + ms;
const invokeMessage = (event: unknown) => (id: string): HostMessage => ({
  type: 'invoke',
  id,
  event,
  ctx: { invocationId: 'x', functionName: 'f', version: 1, deadline: soon() },
});

describe('invocations in flight', () => {
  it('resolves with the agent result and its logs, and forgets the invocation', async () => {
    const { t, sent } = table();
    const out = t.dispatch({ invocationId: 'inv-1', event: 1, deadline: soon() }, invokeMessage(1));
    expect(t.size).toBe(1);
    const id = (sent[0] as { id: string }).id;
    t.logsFor(id)?.add('stdout', 'hello', 1);
    t.onResult({ type: 'result', id, ok: true, value: 2 });
    expect(await out).toMatchObject({ ok: true, result: 2, logs: [{ stream: 'stdout', line: 'hello' }] });
    expect(t.size).toBe(0);
    t.onResult({ type: 'result', id, ok: true, value: 3 }); // late duplicate: ignored
  });

  it("a thrown error is the function's, with its stack", async () => {
    const { t, sent } = table();
    const out = t.dispatch({ invocationId: 'inv-1', event: 1, deadline: soon() }, invokeMessage(1));
    const id = (sent[0] as { id: string }).id;
    t.onResult({ type: 'result', id, ok: false, error: { name: 'Error', message: 'boom', stack: 'at f' } });
    expect(await out).toMatchObject({ ok: false, error: { code: 'function_error', message: 'boom', stack: 'at f' } });
  });

  it('attributes outside output only when exactly one invocation is in flight', () => {
    const { t } = table();
    expect(t.logsFor(null)).toBeUndefined();
    void t.dispatch({ invocationId: 'a', event: 1, deadline: soon() }, invokeMessage(1));
    expect(t.logsFor(null)).toBeDefined();
    void t.dispatch({ invocationId: 'b', event: 1, deadline: soon() }, invokeMessage(1));
    expect(t.logsFor(null)).toBeUndefined();
    t.failAll('internal', 'test over');
  });

  it('streams an HTTP response to its sink and ends with a null result', async () => {
    const { t, sent } = table();
    const heads: number[] = [];
    const chunks: string[] = [];
    const out = t.dispatch({ invocationId: 'h', event: null, deadline: soon() }, invokeMessage(null), {
      head: (status) => heads.push(status),
      chunk: (data) => chunks.push(data.toString()),
    });
    const id = (sent[0] as { id: string }).id;
    t.onHttpHead(id, 201, [['a', 'b']]);
    t.onHttpChunk(id, Buffer.from('hi').toString('base64'));
    t.onHttpEnd(id);
    expect(await out).toMatchObject({ ok: true, result: null });
    expect(heads).toEqual([201]);
    expect(chunks).toEqual(['hi']);
  });

  it('refuses a passed deadline without sending anything', async () => {
    const { t, sent } = table();
    const out = await t.dispatch({ invocationId: 'late', event: 1, deadline: Date.now() - 1 }, invokeMessage(1));
    expect(out).toMatchObject({ ok: false, error: { code: 'timeout' } });
    expect(await t.dispatch({ invocationId: 'nan', event: 1, deadline: Number.NaN }, invokeMessage(1))).toMatchObject({
      ok: false,
      error: { code: 'internal' },
    });
    expect(sent).toEqual([]);
  });

  it('at the deadline asks for the container to go, then answers timeout', async () => {
    const { t, deadlines } = table();
    const out = await t.dispatch({ invocationId: 'slow', event: 1, deadline: Date.now() + 30 }, invokeMessage(1));
    expect(out).toMatchObject({ ok: false, error: { code: 'timeout' } });
    expect(deadlines).toEqual(['slow']);
    expect(t.size).toBe(0);
  });

  it('fails as internal when the channel is closed or the event is not JSON', async () => {
    const closed = table({ open: false });
    expect(await closed.t.dispatch({ invocationId: 'a', event: 1, deadline: soon() }, invokeMessage(1))).toMatchObject({
      ok: false,
      error: { code: 'internal', message: 'container c1 is not running' },
    });
    const { t } = table();
    expect(await t.dispatch({ invocationId: 'b', event: 1n, deadline: soon() }, invokeMessage(1n))).toMatchObject({
      ok: false,
      error: { code: 'internal', message: expect.stringMatching(/not JSON-serializable/) },
    });
    expect(t.size).toBe(0);
  });

  it('when the container goes, fails every invocation in flight with the reason and its logs so far', async () => {
    const { t, sent } = table();
    const a = t.dispatch({ invocationId: 'a', event: 1, deadline: soon() }, invokeMessage(1));
    const b = t.dispatch({ invocationId: 'b', event: 1, deadline: soon() }, invokeMessage(1));
    t.logsFor((sent[0] as { id: string }).id)?.add('stderr', 'dying', 1);
    t.failAll('out_of_memory', 'the function ran out of memory');
    expect(await a).toMatchObject({ ok: false, error: { code: 'out_of_memory' }, logs: [{ line: 'dying' }] });
    expect(await b).toMatchObject({ ok: false, error: { code: 'out_of_memory' }, logs: [] });
    expect(t.size).toBe(0);
  });
});
