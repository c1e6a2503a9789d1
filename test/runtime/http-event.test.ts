import { describe, expect, it } from 'vitest';
import { httpEvent } from '../../src/runtime/agent/http-event.ts';

describe('httpEvent', () => {
  it('parses JSON bodies, joins repeated headers and lower-cases names', () => {
    const e = httpEvent('POST', 'http://x/a/b?q=1&r=2', [['Content-Type', 'application/json'], ['X-A', '1'], ['x-a', '2']], Buffer.from('{"k":true}'));
    expect(e).toEqual({ method: 'POST', path: '/a/b', query: { q: '1', r: '2' }, headers: { 'content-type': 'application/json', 'x-a': '1, 2' }, body: { k: true } });
  });

  it('keeps non-JSON bodies as text and an empty body as null', () => {
    expect(httpEvent('POST', 'http://x/', [['content-type', 'application/json']], Buffer.from('not json')).body).toBe('not json');
    expect(httpEvent('POST', 'http://x/', [], Buffer.from('plain')).body).toBe('plain');
    expect(httpEvent('GET', 'http://x/', [], undefined).body).toBeNull();
  });
});
