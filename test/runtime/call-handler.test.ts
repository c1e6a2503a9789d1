import { describe, expect, it } from 'vitest';
import { callHandler, type EventHandler } from '../../src/runtime/agent/call-handler.ts';
import { findHandler } from '../../src/runtime/agent/find-handler.ts';
import { functionArn } from '../../src/runtime/agent/context.ts';

const base = { invocationId: 'inv-1', functionName: 'fn', version: 3, deadline: Date.now() + 60_000 };
const facts = { memoryMb: '256', region: '' };
const call = (h: (...a: never[]) => unknown, lambdaStyle = true, event: unknown = { x: 1 }) =>
  callHandler(h as unknown as EventHandler, event, base, { lambdaStyle, facts });

describe('callHandler: the first of return value, promise, callback and context.done wins', () => {
  it('async and promise-returning handlers', async () => {
    expect(await call(async (e: { x: number }) => e.x + 1)).toBe(2);
    expect(await call(() => Promise.resolve('p'))).toBe('p');
    await expect(call(async () => Promise.reject(new Error('nope')))).rejects.toThrow('nope');
  });

  it('callback-style handlers, sync or later, with error values of any shape', async () => {
    expect(await call((_e: unknown, _c: unknown, cb: (e: null, v: string) => void) => cb(null, 'now'))).toBe('now');
    expect(await call((_e: unknown, _c: unknown, cb: (e: null, v: string) => void) => void setTimeout(() => cb(null, 'later'), 20))).toBe('later');
    await expect(call((_e: unknown, _c: unknown, cb: (e: string) => void) => cb('plain string'))).rejects.toBe('plain string');
    await expect(call((_e: unknown, _c: unknown, cb: (e: Error) => void) => cb(new TypeError('typed')))).rejects.toThrow(TypeError);
  });

  it('the first outcome wins: a callback before the promise, a promise before a late callback', async () => {
    expect(
      await call(async (_e: unknown, _c: unknown, cb: (e: null, v: string) => void) => {
        cb(null, 'callback');
        return 'promise';
      }),
    ).toBe('callback');
    expect(
      await call(async (_e: unknown, _c: unknown, cb: (e: null, v: string) => void) => {
        setTimeout(() => cb(null, 'late'), 10);
        return 'promise';
      }),
    ).toBe('promise');
  });

  it('legacy context.succeed / fail / done', async () => {
    type Ctx = { succeed(v: unknown): void; fail(e: unknown): void; done(e: unknown, v?: unknown): void };
    expect(await call((_e: unknown, ctx: Ctx) => void setTimeout(() => ctx.succeed({ ok: 1 }), 5))).toEqual({ ok: 1 });
    await expect(call((_e: unknown, ctx: Ctx) => ctx.fail(new Error('failed')))).rejects.toThrow('failed');
    expect(await call((_e: unknown, ctx: Ctx) => ctx.done(null, 'done'))).toBe('done');
  });

  it('a Lambda handler that returns nothing and never calls back ends with null once its work is done', async () => {
    let finished = false;
    const started = Date.now();
    const value = await call((_e: unknown, _c: unknown, _cb: unknown) => void setTimeout(() => (finished = true), 60));
    expect(value).toBeNull();
    expect(finished).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
  });

  it('only the work the invocation started counts: an older timer and an unreferenced one do not hold it', async () => {
    const older = setTimeout(() => {}, 5_000);
    const started = Date.now();
    const value = await call((_e: unknown, _c: unknown, _cb: unknown) => {
      setTimeout(() => {}, 10_000).unref();
      setTimeout(() => {}, 20);
    });
    clearTimeout(older);
    expect(value).toBeNull();
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('a plain (non-Lambda) handler that returns a value or nothing ends at once; a throw is the error', async () => {
    expect(await call((e: { x: number }) => e.x, false)).toBe(1);
    expect(await call((_e: unknown, _c: unknown) => undefined, false)).toBeUndefined();
    await expect(call(() => { throw new Error('sync throw'); })).rejects.toThrow('sync throw');
  });

  it('gives the Lambda context fields', async () => {
    const ctx = (await call((_e: unknown, c: unknown) => Promise.resolve(c))) as Record<string, unknown> & { getRemainingTimeInMillis(): number };
    expect(ctx).toMatchObject({
      invocationId: 'inv-1',
      awsRequestId: 'inv-1',
      functionName: 'fn',
      functionVersion: '3',
      version: 3,
      memoryLimitInMB: '256',
      invokedFunctionArn: 'arn:hearth:lambda:local:000000000000:function:fn',
      callbackWaitsForEmptyEventLoop: true,
    });
    expect(ctx.getRemainingTimeInMillis()).toBeGreaterThan(50_000);
    expect(ctx.getRemainingTimeInMillis()).toBeLessThanOrEqual(60_000);
    expect(functionArn('x', 'eu-west-1').split(':')[3]).toBe('eu-west-1');
  });

});

describe('findHandler', () => {
  const fn = () => 1;
  it('recognises default, ESM handler, CommonJS exports.handler, main and fetch', () => {
    expect(findHandler({ default: fn })).toMatchObject({ kind: 'event', style: 'hearth' });
    expect(findHandler({ handler: fn })).toMatchObject({ kind: 'event', style: 'lambda' });
    expect(findHandler({ default: { handler: fn } })).toMatchObject({ kind: 'event', style: 'lambda' });
    expect(findHandler({ main: fn })).toMatchObject({ kind: 'event', style: 'openwhisk' });
    expect(findHandler({ default: { main: fn } })).toMatchObject({ kind: 'event', style: 'openwhisk' });
    expect(findHandler({ default: { fetch: fn } })).toMatchObject({ kind: 'fetch' });
    expect(findHandler({ default: { other: fn } })).toBeNull();
    expect(findHandler({})).toBeNull();
  });
});
