import { describe, expect, it } from 'vitest';
import { passOrder } from '../../src/scheduler/dispatch-order.ts';

const none = () => false;

describe('dispatch pass order', () => {
  it('takes every ready function once per pass, round robin after the previous pass start', () => {
    const ring = ['a', 'b', 'c', 'd'];
    const ready = new Set(['a', 'b', 'd']);
    expect(passOrder(ring, ready, undefined, none)).toEqual(['a', 'b', 'd']);
    expect(passOrder(ring, ready, 'a', none)).toEqual(['b', 'd', 'a']);
    expect(passOrder(ring, ready, 'b', none)).toEqual(['d', 'a', 'b']);
  });

  it('rotates the first place over passes, so no function is always served last', () => {
    const ring = ['a', 'b', 'c'];
    const ready = new Set(ring);
    const firsts: string[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 6; i++) {
      const order = passOrder(ring, ready, cursor, none);
      cursor = order[0];
      firsts.push(order[0]!);
    }
    expect(firsts).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('puts functions with an idle warm container first, still serving the others in the same pass', () => {
    const ring = ['a', 'b', 'c', 'd'];
    const ready = new Set(ring);
    const warm = (fn: string) => fn === 'c' || fn === 'a';
    expect(passOrder(ring, ready, 'a', warm)).toEqual(['c', 'a', 'b', 'd']);
  });

  it('leaves out functions without work, and a cursor that is gone starts at the beginning', () => {
    expect(passOrder(['a', 'b'], new Set(), undefined, none)).toEqual([]);
    expect(passOrder(['a', 'b'], new Set(['b']), 'zz', none)).toEqual(['b']);
  });
});
