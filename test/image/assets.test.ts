/** Which files of a function's folder ship beside its bundle: the pure rules, then the folder walk. */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AssetsTooLargeError, BuildError } from '../../src/image/errors.ts';
import { checkAssetBytes, maxAssetBytes, selectAssets, DEFAULT_MAX_ASSET_BYTES } from '../../src/image/build/asset-rules.ts';
import { globToRegExp } from '../../src/image/build/glob.ts';
import { IgnoreFile } from '../../src/image/build/ignore-file.ts';
import { functionLayerFiles } from '../../src/image/build/layer-files.ts';
import { DiskHost, MapHost } from '../../src/image/build/source-host.ts';
import { validateFiles } from '../../src/image/build/source-files.ts';

const folder = [
  'index.js',
  'lib/util.ts',
  'types.d.ts',
  'hearth.json',
  '.hearthignore',
  '.env',
  '.git/config',
  'package.json',
  'package-lock.json',
  'templates/page.html',
  'templates/greeting.json',
  'templates/drafts/old.html',
  'fonts/inter.woff2',
  'pkg/module.wasm',
  'node_modules/ms/index.js',
  'node_modules/ms/package.json',
  'scripts/worker.js',
];

describe('globs', () => {
  it('* stays in a segment, ** spans folders, ? is one character, [..] a class', () => {
    expect(globToRegExp('*.html').test('page.html')).toBe(true);
    expect(globToRegExp('*.html').test('templates/page.html')).toBe(false);
    expect(globToRegExp('**/*.html').test('page.html')).toBe(true);
    expect(globToRegExp('**/*.html').test('a/b/page.html')).toBe(true);
    expect(globToRegExp('templates/**').test('templates/drafts/old.html')).toBe(true);
    expect(globToRegExp('font?/*.woff[2]').test('fonts/inter.woff2')).toBe(true);
    expect(globToRegExp('a.b').test('axb')).toBe(false);
  });
});

describe('the default: everything that is not code', () => {
  it('ships templates, JSON, HTML, .wasm and fonts; not code, node_modules, dot-files, build metadata or the reserved names', () => {
    expect(selectAssets(folder)).toEqual([
      'templates/page.html',
      'templates/greeting.json',
      'templates/drafts/old.html',
      'fonts/inter.woff2',
      'pkg/module.wasm',
    ]);
  });
});

describe('hearth.json "files" narrows or widens', () => {
  it('narrows to what its globs match; a folder name takes the whole folder', () => {
    expect(selectAssets(folder, { include: ['templates'] })).toEqual(['templates/page.html', 'templates/greeting.json', 'templates/drafts/old.html']);
    expect(selectAssets(folder, { include: ['**/*.wasm', 'fonts/*'] })).toEqual(['fonts/inter.woff2', 'pkg/module.wasm']);
  });

  it('widens to code the default leaves out (a script read at run time), never to the bundle or config paths', () => {
    expect(selectAssets(folder, { include: ['scripts/*.js', '.env'] })).toEqual(['.env', 'scripts/worker.js']);
    expect(selectAssets(['index.mjs', 'hearth.json', 'a.txt'], { include: ['**'] })).toEqual(['a.txt']);
  });

  it('refuses globs that leave the folder', () => {
    expect(() => selectAssets(folder, { include: ['../secrets/*'] })).toThrow(BuildError);
    expect(() => selectAssets(folder, { include: ['/etc/*'] })).toThrow(BuildError);
  });
});

describe('.hearthignore excludes', () => {
  it('reads like a .gitignore: any depth without a slash, anchored with one, folders, comments, ! re-includes', () => {
    const ignore = new IgnoreFile('# drafts stay home\ndrafts/\n*.woff2\n/package.json\n!templates/drafts/keep.html\n');
    expect(ignore.ignores('templates/drafts/old.html')).toBe(true);
    expect(ignore.ignores('templates/drafts/keep.html')).toBe(false);
    expect(ignore.ignores('fonts/inter.woff2')).toBe(true);
    expect(ignore.ignores('package.json')).toBe(true);
    expect(ignore.ignores('sub/package.json')).toBe(false);
    expect(ignore.ignores('templates/page.html')).toBe(false);
  });

  it('applies after the default and after "files"', () => {
    expect(selectAssets(folder, { include: ['**'], ignore: 'drafts\n*.woff2\npackage*.json\n*.js\n*.ts\n.*\nnode_modules' })).toEqual(['templates/page.html', 'templates/greeting.json', 'pkg/module.wasm']);
    expect(selectAssets(folder, { include: ['templates'], ignore: '*.json' })).toEqual(['templates/page.html', 'templates/drafts/old.html']);
  });
});

describe('the size cap', () => {
  it('is 50 MiB unless HEARTH_MAX_ASSET_BYTES says otherwise, and must be a positive integer', () => {
    expect(maxAssetBytes({})).toBe(DEFAULT_MAX_ASSET_BYTES);
    expect(DEFAULT_MAX_ASSET_BYTES).toBe(50 * 1024 * 1024);
    expect(maxAssetBytes({ HEARTH_MAX_ASSET_BYTES: '1000' })).toBe(1000);
    expect(() => maxAssetBytes({ HEARTH_MAX_ASSET_BYTES: '-1' })).toThrow(/positive integer/);
  });

  it('passes at the limit and fails past it naming the total, the limit and the largest files', () => {
    expect(checkAssetBytes([{ path: 'a', size: 600 }, { path: 'b', size: 400 }], 1000)).toBe(1000);
    const err = (() => {
      try {
        checkAssetBytes([{ path: 'small.txt', size: 1 }, { path: 'big.bin', size: 1000 }], 1000);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(AssetsTooLargeError);
    expect((err as Error).message).toMatch(/1001 bytes, over the limit of 1000 \(HEARTH_MAX_ASSET_BYTES\); largest: big\.bin \(1000 bytes\)/);
  });
});

describe('deploy file maps', () => {
  it('take text as strings and bytes as padded base64, and refuse anything else', () => {
    const bytes = Buffer.from([0, 255, 1, 128]);
    const files = validateFiles({ 'index.js': 'x', 'font.woff2': { base64: bytes.toString('base64') } });
    expect(Buffer.from(files.get('font.woff2')!)).toEqual(bytes);
    expect(Buffer.from(files.get('index.js')!).toString()).toBe('x');
    expect(() => validateFiles({ 'a.bin': { base64: 'not base64!' } })).toThrow(/base64/);
    expect(() => validateFiles({ 'a.bin': { base64: 'QQ' } })).toThrow(/padded/);
  });
});

describe('a folder on disk and a deploy map give the same files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'hearth-assets-'));
    const write = async (rel: string, content: string | Buffer): Promise<void> => {
      await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
      await writeFile(path.join(dir, rel), content);
    };
    await write('index.js', 'module.exports.handler = () => 1;');
    await write('templates/page.html', '<p>{name}</p>');
    await write('data/blob.bin', Buffer.alloc(3000, 7));
    await write('.hearthignore', 'data/\n');
    await write('node_modules/native/package.json', JSON.stringify({ name: 'native', dependencies: { helper: '1' } }));
    await write('node_modules/native/index.js', 'module.exports = require("./build/" + "addon.js");');
    await write('node_modules/native/build/addon.js', 'module.exports = 42;');
    await write('node_modules/helper/package.json', JSON.stringify({ name: 'helper' }));
    await write('node_modules/helper/index.js', '');
    await write('node_modules/unused/index.js', '');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('assets after .hearthignore, plus external packages with their dependencies and nothing else of node_modules', async () => {
    const files = await functionLayerFiles(new DiskHost(dir), { external: ['native'] }, 1_000_000);
    const paths = files.map((f) => f.rel).sort();
    expect(paths).toEqual([
      'node_modules/helper/index.js',
      'node_modules/helper/package.json',
      'node_modules/native/build/addon.js',
      'node_modules/native/index.js',
      'node_modules/native/package.json',
      'templates/page.html',
    ]);
    // What `hearth deploy` uploads from these is chosen the same way again on the server.
    const map = new Map<string, Uint8Array>([['index.mjs', Buffer.from('x')]]);
    for (const f of files) map.set(f.rel, await readFile((f.content as { hostPath: string }).hostPath));
    const again = await functionLayerFiles(new MapHost(map), { external: ['native'] }, 1_000_000);
    expect(again.map((f) => f.rel).sort()).toEqual(paths);
  });

  it('a missing external package and a folder over the cap are clear errors', async () => {
    await expect(functionLayerFiles(new DiskHost(dir), { external: ['nope'] }, 1_000_000)).rejects.toThrow(/"nope".*not installed/);
    // data/ (3000 bytes) is ignored: the cap counts only what ships.
    await expect(functionLayerFiles(new DiskHost(dir), {}, 13)).resolves.toHaveLength(1);
    await expect(functionLayerFiles(new DiskHost(dir), {}, 12)).rejects.toBeInstanceOf(AssetsTooLargeError);
  });
});
