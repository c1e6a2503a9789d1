/**
 * Calls an event handler the way Lambda's Node.js runtime does: the handler may return a value,
 * return a promise, or call `callback(err, value)` / `context.succeed|fail|done`; the first of
 * these wins and later ones are ignored.
 */
import { functionContext, type ContextFacts, type FunctionContext } from './context.ts';
import type { InvokeContext } from '../protocol.ts';
import { trackWork, type TrackedCall } from './pending-work.ts';

export type EventHandler = (event: unknown, ctx: FunctionContext, callback: (error?: unknown, value?: unknown) => void) => unknown;

export interface CallOptions {
  /**
   * A handler written for Lambda that returns nothing and never calls back ends, as on Lambda,
   * when the work it started is done: its result is then null. Plain handlers end at once.
   */
  lambdaStyle: boolean;
  facts: ContextFacts;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as PromiseLike<unknown>).then === 'function';
}

/** An `async function` always returns a promise: its work never needs tracking. */
function isAsyncFunction(f: unknown): boolean {
  return typeof f === 'function' && f.constructor?.name === 'AsyncFunction';
}

export function callHandler(handler: EventHandler, event: unknown, base: InvokeContext, opts: CallOptions): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let tracked: TrackedCall<unknown> | undefined;
    const settle = (error: unknown, value?: unknown) => {
      if (settled) return;
      settled = true;
      tracked?.stop();
      // Passed on as given (a string, an object): the agent reports any thrown value the same way.
      if (error !== null && error !== undefined) reject(error);
      else resolve(value);
    };
    const ctx = functionContext(base, opts.facts, settle);
    const callback = (error?: unknown, value?: unknown) => settle(error, value);
    // Only a Lambda handler that may call back later can end by going quiet.
    const mayCallBack = opts.lambdaStyle && handler.length >= 2 && !isAsyncFunction(handler);
    let returned: unknown;
    try {
      if (mayCallBack) {
        tracked = trackWork(() => handler(event, ctx, callback));
        returned = tracked.result;
      } else returned = handler(event, ctx, callback);
    } catch (e) {
      settled = true;
      tracked?.stop();
      reject(e);
      return;
    }
    if (isThenable(returned)) {
      returned.then(
        (value) => settle(null, value),
        (e: unknown) => settle(e ?? new Error('the handler rejected without a reason')),
      );
      return;
    }
    // A plain return value, or a plain handler that returned nothing: that is the result.
    if (returned !== undefined || !tracked) {
      queueMicrotask(() => settle(null, returned));
      return;
    }
    // A Lambda callback-style handler returned nothing: its callback, or the end of the work it
    // started (answered with null, as Lambda does), decides. The deadline bounds the wait.
    void tracked.quiet.then(() => settle(null, null));
  });
}
