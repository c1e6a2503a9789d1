import { describe, expect, it } from 'vitest';
import { FLUSH_INTERVAL_MS, RecordWriter } from '../../src/scheduler/record-writer.ts';
import type { InvocationStore } from '../../src/scheduler/invocation-store.ts';
import type { InvocationRecord } from '../../src/scheduler/invocation-record.ts';

function rec(id: string): InvocationRecord {
  return { id, function: 'f', version: 1, status: 'succeeded', trigger: 'sync', attempts: 1, maxAttempts: 1, queuedAt: new Date(0).toISOString() };
}

const afterInterval = () => new Promise((r) => setTimeout(r, FLUSH_INTERVAL_MS * 4));

function fakeStore(putMany: (entries: unknown[]) => Promise<void>): InvocationStore {
  return { putMany } as unknown as InvocationStore;
}

describe('RecordWriter', () => {
  it('writes records handed over within the flush interval in one batch, after it', async () => {
    const batches: string[][] = [];
    const writer = new RecordWriter(fakeStore(async (entries) => void batches.push((entries as { record: InvocationRecord }[]).map((e) => e.record.id))));
    writer.write(rec('a'));
    writer.write(rec('b'), [{ time: 1, stream: 'stdout', line: 'x' }]);
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([]);
    await afterInterval();
    writer.write(rec('c'));
    await writer.close();
    expect(batches).toEqual([['a', 'b'], ['c']]);
  });

  it('reports a failed or unanswered write and never throws to the caller', async () => {
    const warnings: string[] = [];
    const failing = new RecordWriter(fakeStore(async () => { throw new Error('READONLY'); }), (m) => warnings.push(m));
    failing.write(rec('a'));
    await failing.close();
    expect(warnings).toEqual(['writing 1 invocation records failed: READONLY']);
  });

  it('close waits for a write in flight and flushes what is pending', async () => {
    const gates: (() => void)[] = [];
    const written: string[] = [];
    const writer = new RecordWriter(fakeStore(async (entries) => {
      await new Promise<void>((r) => gates.push(r));
      for (const e of entries as { record: InvocationRecord }[]) written.push(e.record.id);
    }));
    writer.write(rec('a'));
    await afterInterval();
    writer.write(rec('b'));
    let closed = false;
    const closing = writer.close().then(() => (closed = true));
    await new Promise((r) => setImmediate(r));
    expect(gates).toHaveLength(2);
    gates[1]!();
    await new Promise((r) => setImmediate(r));
    expect(closed).toBe(false);
    gates[0]!();
    await closing;
    expect(written.sort()).toEqual(['a', 'b']);
  });

  it('says Redis is full after a write refused for maxmemory, until a write goes through', async () => {
    const outcomes: (Error | undefined)[] = [new Error('OOM command not allowed when used memory > \'maxmemory\'.'), new Error('Connection is closed.'), undefined];
    const writer = new RecordWriter(fakeStore(async () => {
      const err = outcomes.shift();
      if (err) throw err;
    }));
    expect(writer.redisFull).toBe(false);
    writer.write(rec('a'));
    await writer.flush();
    expect(writer.redisFull).toBe(true);
    // Another failure says nothing about room: still full.
    writer.write(rec('b'));
    await writer.flush();
    expect(writer.redisFull).toBe(true);
    writer.write(rec('c'));
    await writer.flush();
    expect(writer.redisFull).toBe(false);
    await writer.close();
  });

  it('writeDurable joins the pending batch, sends it at the end of the turn and resolves once it is written', async () => {
    const batches: string[][] = [];
    const gates: (() => void)[] = [];
    const writer = new RecordWriter(fakeStore(async (entries) => {
      await new Promise<void>((r) => gates.push(r));
      batches.push((entries as { record: InvocationRecord }[]).map((e) => e.record.id));
    }));
    writer.write(rec('a'));
    let durable = false;
    const writing = writer.writeDurable(rec('b')).then(() => (durable = true));
    await new Promise((r) => setImmediate(r));
    // Sent well before the flush interval, with the record written before it.
    expect(gates).toHaveLength(1);
    expect(durable).toBe(false);
    gates[0]!();
    await writing;
    expect(batches).toEqual([['a', 'b']]);
    await writer.close();
  });

  it('writeDurable fails with its batch, so the caller can stop before acknowledging anything', async () => {
    const warnings: string[] = [];
    const writer = new RecordWriter(fakeStore(async () => { throw new Error('OOM command not allowed'); }), (m) => warnings.push(m));
    await expect(writer.writeDurable(rec('a'))).rejects.toThrow('OOM command not allowed');
    await writer.close();
    expect(warnings).toEqual(['writing 1 invocation records failed: OOM command not allowed']);
  });
});
