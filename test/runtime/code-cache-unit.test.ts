/** The agent's code-cache helpers, run here: compiling never runs the code; a cache made after a run is accepted next time. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeCacheMode, compileCommonJs, makeCodeCache, runCommonJs } from '../../src/runtime/agent/code-cache.ts';
import { BundleCodeCache } from '../../src/runtime/agent/bundle-code-cache.ts';
import { filesOf } from '../../src/runtime/agent/function-bundle.ts';
import { cacheMode } from '../../src/runtime/agent-launch.ts';

describe('code cache helpers', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hearth-code-cache-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the mode from the agent arguments', () => {
    expect(codeCacheMode(['node', '/hearth/agent.cjs', '--code-cache=follows'])).toBe('follows');
    expect(codeCacheMode(['--code-cache=produce'])).toBe('produce');
    expect(codeCacheMode(['--code-cache=compile'])).toBe('compile');
    expect(codeCacheMode(['node', '/hearth/agent.cjs'])).toBeUndefined();
  });

  it('compileCommonJs compiles without running a line of the bundle', () => {
    const script = compileCommonJs('/function/index.cjs', "'use strict';\nthrow new Error('ran');\n");
    expect(makeCodeCache(script)?.length).toBeGreaterThan(0);
  });

  it('runCommonJs runs the bundle as require would (exports, this, __filename, require) and takes its own cache back', async () => {
    const entry = join(dir, 'index.cjs');
    const source = "'use strict';\nconst os = require('node:os');\nexports.kind = typeof os.cpus;\nexports.self = this === module.exports;\nexports.file = __filename;\n";
    await writeFile(entry, source);
    const first = runCommonJs(entry, source);
    expect(first.exports).toEqual({ kind: 'function', self: true, file: entry });
    const again = runCommonJs(entry, source, makeCodeCache(first.script));
    expect(again.script.cachedDataRejected).toBe(false);
    expect(again.exports).toEqual(first.exports);
    // V8 checks little of the source (its length): the key must name the exact bundle, as an image digest does.
    expect(runCommonJs(entry, source.replace('kind', 'kinds'), makeCodeCache(first.script)).script.cachedDataRejected).toBe(true);
  });

  it("a stem cell's specialize: the files' bytes, then the code cache's, cut from one attachment", () => {
    const attachment = Buffer.from('abcdeCACHE');
    const m = { files: [{ path: 'index.cjs', bytes: 3 }, { path: 'hearth.json', bytes: 2 }], codeCache: { bytes: 5 } };
    const { files, codeCache } = filesOf(m, attachment);
    expect(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, v.toString()]))).toEqual({ 'index.cjs': 'abc', 'hearth.json': 'de' });
    expect(codeCache?.toString()).toBe('CACHE');
    expect(filesOf({ files: m.files }, Buffer.from('abcde')).codeCache).toBeUndefined();
    expect(() => filesOf({ files: m.files }, attachment)).toThrow(/take 5 bytes, 10 came/);
    expect(() => filesOf(m, Buffer.from('abcde'))).toThrow(/take 10 bytes, 5 came/);
  });

  it('a cell adopts the mode its specialize message names: the cache it was sent is used, or none', async () => {
    const sent: string[] = [];
    const follows = new BundleCodeCache(['node', '/hearth/agent.cjs'], (b) => sent.push(b));
    expect(await follows.forLoad()).toBeUndefined();
    follows.adopt('follows', Buffer.from('cache'));
    expect(follows.mode).toBe('follows');
    expect((await follows.forLoad())?.data?.toString()).toBe('cache');
    const produce = new BundleCodeCache(['node', '/hearth/agent.cjs'], (b) => sent.push(b));
    produce.adopt('produce', undefined);
    expect(await produce.forLoad()).toEqual({});
    // Only a cell, which started with no mode, adopts one.
    const started = new BundleCodeCache(['--code-cache=produce'], (b) => sent.push(b));
    started.adopt('follows', Buffer.from('x'));
    expect(started.mode).toBe('produce');
    expect(cacheMode(undefined)).toBe('produce');
    expect(cacheMode({ compiledOnly: true })).toBe('upgrade');
    expect(cacheMode({ compiledOnly: false })).toBe('follows');
  });
});
