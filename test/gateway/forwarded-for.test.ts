import { describe, expect, it } from 'vitest';
import { withForwardedFor } from '../../src/gateway/routes/trigger.ts';

describe('withForwardedFor', () => {
  it('appends the peer to an existing X-Forwarded-For, or adds one', () => {
    expect(withForwardedFor([['X-Forwarded-For', '1.2.3.4']], '127.0.0.1')).toEqual([['X-Forwarded-For', '1.2.3.4, 127.0.0.1']]);
    expect(withForwardedFor([['a', 'b']], '::1')).toEqual([['a', 'b'], ['x-forwarded-for', '::1']]);
    expect(withForwardedFor([['a', 'b']], undefined)).toEqual([['a', 'b']]);
  });
});
