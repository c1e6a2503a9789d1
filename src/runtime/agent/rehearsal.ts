/**
 * A stem cell's rehearsal, before it says ready: the path its first function takes (write the
 * files it is sent, require the bundle, find the handler, call it in an async context, frame the
 * result) run once on a built-in no-op function. The first run of that path in a process is slow
 * (node's CommonJS loader and sync fs calls, AsyncLocalStorage installing its promise hooks, V8
 * compiling each step): measured in cells, the first invoke 0.9-1.2 ms -> 0.16-0.22 ms, writing
 * the files 0.6-0.75 -> 0.3-0.5 ms. A stem cell is idle until taken, so it pays that then, not
 * the caller of a new function.
 *
 * Then node's web classes, set up on first touch (see warmWebClasses). That part costs the cell
 * ~5 MiB (6.9 -> 11.8 MiB in its cgroup), which the function's container keeps.
 *
 * Nothing else of it stays: its files are removed, its module leaves require's cache, its result
 * is never sent, process.env and the context facts are untouched.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ContextFacts } from './context.ts';
import { findHandler, type Loaded } from './find-handler.ts';
import { dropBundle, filesOf, loadBundle, writeBundleFiles } from './function-bundle.ts';
import type { InvokeMessage } from '../protocol.ts';

/** On the cell's own tmpfs, beside (never inside) where a function's files go. */
const REHEARSAL_DIR = '/tmp/.hearth-rehearsal';
/** What esbuild makes of `export default async (event) => …` (the server bundles ES modules to CommonJS so). */
const REHEARSAL_BUNDLE = `'use strict';
var __defProp = Object.defineProperty;
var __getOwnPropDesc = Object.getOwnPropertyDescriptor;
var __getOwnPropNames = Object.getOwnPropertyNames;
var __hasOwnProp = Object.prototype.hasOwnProperty;
var __export = (target, all) => {
  for (var name in all)
    __defProp(target, name, { get: all[name], enumerable: true });
};
var __copyProps = (to, from, except, desc) => {
  if (from && typeof from === "object" || typeof from === "function") {
    for (let key of __getOwnPropNames(from))
      if (!__hasOwnProp.call(to, key) && key !== except)
        __defProp(to, key, { get: () => from[key], enumerable: !(desc = __getOwnPropDesc(from, key)) || desc.enumerable });
  }
  return to;
};
var __toCommonJS = (mod) => __copyProps(__defProp({}, "__esModule", { value: true }), mod);
var index_exports = {};
__export(index_exports, { default: () => index_default });
module.exports = __toCommonJS(index_exports);
var index_default = async (event) => ({ rehearsed: true, event });
`;

export interface RehearsalDeps {
  /** The agent's own invocation path, up to (not including) sending the frame. */
  runEvent: (target: Loaded | undefined, m: InvokeMessage, facts: ContextFacts) => Promise<string>;
}

/** Never throws: a rehearsal that fails leaves the path cold, nothing worse. */
export async function rehearse(deps: RehearsalDeps): Promise<void> {
  const entry = join(REHEARSAL_DIR, 'index.cjs');
  try {
    const bytes = Buffer.from(REHEARSAL_BUNDLE);
    writeBundleFiles(REHEARSAL_DIR, filesOf({ files: [{ path: 'index.cjs', bytes: bytes.length }] }, bytes).files);
    const target = findHandler((await loadBundle(entry)).namespace) ?? undefined;
    dropBundle(entry);
    const ctx = { invocationId: 'rehearsal', functionName: 'rehearsal', version: 0, deadline: Date.now() + 1000 };
    await deps.runEvent(target, { type: 'invoke', id: 'rehearsal', event: { n: 1 }, ctx }, { memoryMb: '', region: '' });
    await warmWebClasses();
  } catch {
    // Only speed is at stake.
  } finally {
    rmSync(REHEARSAL_DIR, { recursive: true, force: true });
  }
}

/**
 * Node 20 sets up its web classes (undici's Request, Response, Headers and web streams) when code
 * first touches one: 22-35 ms here. Web frameworks (hono, the fetch handlers of the HTTP trigger)
 * build a Request and answer a Response on their first request; this is that round, with a body.
 */
async function warmWebClasses(): Promise<void> {
  const request = new Request('http://rehearsal.invalid/greet', { method: 'POST', body: '{"n":1}', headers: { 'content-type': 'application/json' } });
  const body = (await request.json()) as unknown;
  const response = new Response(JSON.stringify({ body, url: new URL(request.url).pathname }), { status: 200, headers: { 'content-type': 'application/json' } });
  response.headers.forEach(() => undefined);
  await response.json();
}
