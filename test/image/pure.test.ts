import { describe, expect, it } from 'vitest';
import { formatMessages } from '../../src/image/build/index.ts';
import { parseLdd } from '../../src/image/build/ldd.ts';
import { MAX_FILES, userPath, validateFiles } from '../../src/image/build/source-files.ts';
import { digestHex, isDigest, sha256Digest } from '../../src/image/digest.ts';
import { BuildError } from '../../src/image/index.ts';
import { canonicalJson } from '../../src/image/json.ts';
import { functionImageConfig, functionManifest, parseManifest } from '../../src/image/oci.ts';
import { entryPath } from '../../src/image/unpack/paths.ts';

const HEX = 'a'.repeat(64);

describe('digests', () => {
  it('are "sha256:<hex>" of the bytes', () => {
    expect(sha256Digest('')).toBe('sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(isDigest(`sha256:${HEX}`)).toBe(true);
    expect(digestHex(`sha256:${HEX}`)).toBe(HEX);
  });

  it.each([`sha256:${HEX.slice(1)}`, `sha512:${HEX}`, `sha256:../${HEX.slice(3)}`, `sha256:${HEX.toUpperCase()}`, HEX])(
    'refuses %s before it can become a path',
    (d) => {
      expect(isDigest(d)).toBe(false);
      expect(() => digestHex(d)).toThrow(/not a sha256 digest/);
    },
  );
});

describe('canonicalJson', () => {
  it('sorts keys at every level and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[{"y":2,"z":1}]},"b":1}');
  });
  it('gives the same bytes whatever order the object was built in', () => {
    expect(canonicalJson({ x: 1, y: 2 })).toBe(canonicalJson({ y: 2, x: 1 }));
  });
});

describe('OCI documents', () => {
  it('the function image config runs the agent under tini as uid 1000, with no timestamp', () => {
    const config = functionImageConfig('hello', [`sha256:${HEX}`, `sha256:${'b'.repeat(64)}`]);
    expect(config).toEqual({
      architecture: 'amd64',
      os: 'linux',
      config: {
        User: '1000:1000',
        Env: ['PATH=/usr/bin:/bin', 'NODE_ENV=production'],
        Entrypoint: ['/usr/bin/tini', '--', '/usr/bin/node', '/hearth/agent.cjs'],
        WorkingDir: '/function',
        Labels: { 'io.hearth.function': 'hello' },
      },
      rootfs: { type: 'layers', diff_ids: [`sha256:${HEX}`, `sha256:${'b'.repeat(64)}`] },
    });
    expect(JSON.stringify(config)).not.toMatch(/created/);
  });

  it('the manifest is schema 2 with the function annotation and parses back', () => {
    const desc = { mediaType: 'x', digest: `sha256:${HEX}`, size: 1 };
    const m = functionManifest('hello', desc, [desc]);
    expect(m).toMatchObject({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', annotations: { 'io.hearth.function': 'hello' } });
    expect(parseManifest(JSON.parse(canonicalJson(m)))).toEqual(m);
    expect(() => parseManifest({ schemaVersion: 1 })).toThrow();
    expect(() => parseManifest({ ...m, mediaType: 'application/vnd.oci.image.index.v1+json' })).toThrow(/unsupported/);
  });
});

describe('parseLdd', () => {
  it('keeps the loader paths of real files and skips the vDSO', () => {
    const out = [
      '\tlinux-vdso.so.1 (0x00007ffd1b3f2000)',
      '\tlibdl.so.2 => /lib/x86_64-linux-gnu/libdl.so.2 (0x00007f0b1b0e0000)',
      '\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007f0b1ae00000)',
      '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f0b1ac1e000)',
      '\t/lib64/ld-linux-x86-64.so.2 (0x00007f0b1b0f8000)',
      '',
    ].join('\n');
    expect(parseLdd(out)).toEqual([
      '/lib/x86_64-linux-gnu/libc.so.6',
      '/lib/x86_64-linux-gnu/libdl.so.2',
      '/lib/x86_64-linux-gnu/libstdc++.so.6',
      '/lib64/ld-linux-x86-64.so.2',
    ]);
  });
  it('fails on a missing library and returns nothing for static binaries', () => {
    expect(() => parseLdd('\tlibfoo.so.1 => not found\n')).toThrow(/missing shared library/);
    expect(parseLdd('\tnot a dynamic executable\n')).toEqual([]);
  });
});

describe('deploy file paths', () => {
  it('normalizes harmless spellings', () => {
    expect(userPath('./src//a.ts')).toBe('src/a.ts');
    expect(userPath('node_modules/dep/index.js')).toBe('node_modules/dep/index.js');
  });

  it.each(['/etc/passwd', '../x.ts', 'a/../../x.ts', 'a/../b.ts', 'a\\b.ts', '', '.', './', 'a\0b'])('refuses %j with a BuildError', (p) => {
    expect(() => userPath(p)).toThrow(BuildError);
  });

  it('refuses duplicates after normalization, file/dir clashes, non-strings and too many files', () => {
    expect(() => validateFiles({ 'a.ts': '', './a.ts': '' })).toThrow(/twice/);
    expect(() => validateFiles({ a: '', 'a/b.ts': '' })).toThrow(/both a file and a directory/);
    expect(() => validateFiles({ 'a.ts': 1 as unknown as string })).toThrow(BuildError);
    expect(() => validateFiles({})).toThrow(/no files/);
    const many = Object.fromEntries(Array.from({ length: MAX_FILES + 1 }, (_, i) => [`f${i}.js`, '']));
    expect(() => validateFiles(many)).toThrow(/too many files/);
    const enough = Object.fromEntries(Array.from({ length: MAX_FILES }, (_, i) => [`f${i}.js`, '']));
    expect(validateFiles(enough).size).toBe(MAX_FILES);
  });
});

describe('layer entry paths', () => {
  it('normalizes names found in real layers', () => {
    expect(entryPath('./etc/')).toBe('etc');
    expect(entryPath('usr/bin/node')).toBe('usr/bin/node');
    expect(entryPath('a/../b')).toBe('b');
    expect(entryPath('./')).toBe('');
  });
  it.each(['/etc/passwd', '../x', 'a/../../x', '..'])('refuses %j', (p) => {
    expect(() => entryPath(p)).toThrow();
  });
});

describe('esbuild messages', () => {
  it('read file:line:column, the message and the line', () => {
    const text = formatMessages([
      {
        id: '',
        pluginName: '',
        text: 'Unexpected ";"',
        location: { file: 'index.ts', namespace: 'file', line: 2, column: 12, length: 1, lineText: '  return e +;', suggestion: '' },
        notes: [],
        detail: undefined,
      },
    ]);
    expect(text).toBe('index.ts:2:12: Unexpected ";"\n      return e +;');
  });
});
