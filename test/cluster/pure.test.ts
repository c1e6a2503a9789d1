import { describe, expect, it } from 'vitest';
import { defaultNodeName } from '../../src/config/index.ts';
import { mergePools, someNodeCanRun, type NodeRecord } from '../../src/cluster/index.ts';
import { parseNodeRecord } from '../../src/cluster/node-record.ts';
import type { PoolDescription } from '../../src/pool/index.ts';

const node = (id: string, unavailable: string[] = []): NodeRecord => ({
  id, url: `http://${id}`, version: '0.1.0', startedAt: '', lastHeartbeat: '', containers: 0, memoryReservedMb: 0, memoryBudgetMb: null, unavailable,
});

const limits = (containers: number): PoolDescription['limits'] => ({ maxContainers: null, memoryBudgetMb: null, containers, memoryReservedMb: 128 * containers, waiting: 0 });
const container = (id: string, fn: string): PoolDescription['containers'][number] => ({
  id, function: fn, version: 1, state: 'idle', retiring: false, fromStemCell: false, inFlight: 0, invocations: 1, ageMs: 10, idleSince: null, memoryMb: 128, memoryBytes: 1,
});

describe('node names', () => {
  it('default to host:port, and to a data-dir hash when the port is chosen at start', () => {
    expect(defaultNodeName(8080, '/srv/hearth', 'box')).toBe('box:8080');
    const a = defaultNodeName(0, '/tmp/a', 'box');
    expect(a).toMatch(/^box:[0-9a-f]{8}$/);
    expect(defaultNodeName(0, '/tmp/b', 'box')).not.toBe(a);
    expect(defaultNodeName(0, '/tmp/a', 'box')).toBe(a);
  });
});

describe('node records', () => {
  it('parse what a node stored, and nothing else', () => {
    expect(parseNodeRecord(JSON.stringify(node('n1')))).toEqual(node('n1'));
    expect(parseNodeRecord(null)).toBeUndefined();
    expect(parseNodeRecord('not json')).toBeUndefined();
    expect(parseNodeRecord('{"id":1}')).toBeUndefined();
  });

  it('a function is runnable while one live node can get its image', () => {
    expect(someNodeCanRun([node('a', ['f']), node('b')], 'f')).toBe(true);
    expect(someNodeCanRun([node('a', ['f']), node('b', ['f'])], 'f')).toBe(false);
    expect(someNodeCanRun([], 'f')).toBe(true);
  });
});

describe('the cluster-wide pool', () => {
  it('lists the local node first, then the others by name, every container naming its node', () => {
    const local = { containers: [container('c1', 'f')], stemCells: [], limits: limits(1) };
    const others = new Map<string, PoolDescription>([
      ['z', { containers: [container('c3', 'g')], stemCells: [{ id: 's1', state: 'ready', ageMs: 1, memoryBytes: 1 }], limits: limits(1) }],
      ['b', { containers: [container('c2', 'f')], stemCells: [], limits: limits(1) }],
      // A stale copy of the local node's own report is ignored: the live one counts.
      ['me', { containers: [container('old', 'f')], stemCells: [], limits: limits(5) }],
    ]);
    const merged = mergePools({ node: 'me', pool: local }, others);
    expect(merged.containers.map((c) => [c.id, c.node])).toEqual([['c1', 'me'], ['c2', 'b'], ['c3', 'z']]);
    expect(merged.stemCells).toEqual([{ id: 's1', state: 'ready', ageMs: 1, memoryBytes: 1, node: 'z' }]);
    expect(merged.limits).toEqual(limits(1));
    expect(merged.nodes.map((n) => n.node)).toEqual(['me', 'b', 'z']);
  });
});
