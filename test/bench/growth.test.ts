import { describe, expect, it } from 'vitest';
import { keepsGrowing } from '../../bench/growth.ts';

const rule = { warmup: 2, relative: 0.1, absolute: 5 };

describe('soak growth rule', () => {
  it('flags a steady climb', () => {
    expect(keepsGrowing([10, 50, 100, 104, 108, 112, 116, 120, 124], rule)).toBe(true);
  });
  it('passes a plateau, a saw tooth and a warm-up spike', () => {
    expect(keepsGrowing([10, 90, 100, 101, 100, 101, 100, 101, 100], rule)).toBe(false);
    expect(keepsGrowing([10, 50, 100, 120, 100, 120, 100, 120, 101], rule)).toBe(false);
    expect(keepsGrowing([500, 10, 100, 100, 100, 100], rule)).toBe(false);
  });
  it('ignores a rise smaller than the slack and too few samples', () => {
    expect(keepsGrowing([0, 0, 100, 101, 102, 103, 104], rule)).toBe(false);
    expect(keepsGrowing([0, 0, 100, 200, 300], rule)).toBe(false);
  });
});
