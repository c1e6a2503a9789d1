import { describe, expect, it } from 'vitest';
import { hasLocalCapacity } from '../../src/scheduler/local-capacity.ts';
import { decodeBody, encodeBody, isQueuedHttpResponse } from '../../src/scheduler/http-job.ts';

const c = (fn: string, state: 'starting' | 'idle' | 'busy', inFlight: number, retiring = false) => ({ function: fn, state, inFlight, retiring });
const one = { concurrency: 1, maxContainers: 1 };

describe('room for an HTTP request on the receiving node', () => {
  it('there is room with no container yet, or one with a free slot', () => {
    expect(hasLocalCapacity([], 'f', one)).toBe(true);
    expect(hasLocalCapacity([c('f', 'idle', 0)], 'f', one)).toBe(true);
    expect(hasLocalCapacity([c('f', 'busy', 1)], 'f', { concurrency: 2, maxContainers: 1 })).toBe(true);
  });

  it('none when every container of it is busy and no more may start', () => {
    expect(hasLocalCapacity([c('f', 'busy', 1)], 'f', one)).toBe(false);
    // A container still starting is spoken for.
    expect(hasLocalCapacity([c('f', 'starting', 0)], 'f', one)).toBe(false);
    expect(hasLocalCapacity([c('f', 'busy', 1), c('f', 'busy', 1)], 'f', { concurrency: 1, maxContainers: 2 })).toBe(false);
  });

  it('retiring containers and other functions do not count', () => {
    expect(hasLocalCapacity([c('f', 'busy', 1, true), c('g', 'busy', 1)], 'f', one)).toBe(true);
    expect(hasLocalCapacity([c('f', 'idle', 0, true)], 'f', { concurrency: 1, maxContainers: 0 })).toBe(false);
  });
});

describe('an HTTP request and response as a job', () => {
  it('bodies survive base64 byte for byte; an empty body is none', () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(decodeBody(encodeBody(bytes))).toEqual(bytes);
    expect(encodeBody(new Uint8Array())).toBeUndefined();
    expect(encodeBody(undefined)).toBeUndefined();
  });

  it('a job result is a response only with status, headers and body', () => {
    expect(isQueuedHttpResponse({ status: 200, headers: [], body: '' })).toBe(true);
    expect(isQueuedHttpResponse({ status: 200, headers: [] })).toBe(false);
    expect(isQueuedHttpResponse(null)).toBe(false);
    expect(isQueuedHttpResponse('x')).toBe(false);
  });
});
