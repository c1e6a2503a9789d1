import { readdirSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createGzip, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CorruptContentError } from '../../src/image/errors.ts';
import { ContentStore } from '../../src/image/store/content-store.ts';
import { OciLayout } from '../../src/image/store/layout.ts';
import { sha256, tempDir } from './helpers.ts';

let tmp: Awaited<ReturnType<typeof tempDir>>;
let blobsDir: string;
let scratch: string;
let store: ContentStore;

beforeAll(async () => {
  tmp = await tempDir('store');
  blobsDir = path.join(tmp.dir, 'oci', 'blobs', 'sha256');
  scratch = path.join(tmp.dir, 'tmp');
  await mkdir(scratch);
  store = new ContentStore(blobsDir, scratch);
});
afterAll(async () => tmp.remove());

describe('content store', () => {
  it('stores bytes under their sha256 and skips a second write', async () => {
    const data = Buffer.from('{"hello":"world"}');
    const ref = await store.put(data);
    expect(ref).toEqual({ digest: sha256(data), size: data.byteLength });
    const file = store.path(ref.digest);
    expect(await readFile(file)).toEqual(data);
    const mtime = statSync(file).mtimeMs;
    await store.put(data);
    expect(statSync(file).mtimeMs).toBe(mtime);
    expect(await store.read(ref.digest)).toEqual(data);
    expect(readdirSync(scratch)).toEqual([]);
  });

  it('refuses bytes that do not match the expected digest', async () => {
    const refused = store.put(Buffer.from('a'), sha256(Buffer.from('b')));
    await expect(refused).rejects.toThrow(/digest mismatch/);
    await expect(refused).rejects.toBeInstanceOf(CorruptContentError);
    expect(await store.has(sha256(Buffer.from('a')))).toBe(false);
  });

  it('notices a blob corrupted on disk', async () => {
    const ref = await store.put(Buffer.from('original'));
    await writeFile(store.path(ref.digest), 'tampered');
    const refused = store.read(ref.digest);
    await expect(refused).rejects.toThrow(/corrupt/);
    await expect(refused).rejects.toMatchObject({ name: 'CorruptContentError', digest: ref.digest });
  });

  it('streams a blob through a transform, hashing what is stored', async () => {
    const input = Buffer.alloc(3 << 20, 'layer bytes ');
    const ref = await store.ingest(Readable.from([input.subarray(0, 1000), input.subarray(1000)]), createGzip({ level: 6 }));
    const stored = await readFile(store.path(ref.digest));
    expect(sha256(stored)).toBe(ref.digest);
    expect(ref.size).toBe(stored.byteLength);
    expect(gunzipSync(stored).equals(input)).toBe(true);
    expect(readdirSync(scratch)).toEqual([]);
  });

  it('leaves no temp file when the source fails', async () => {
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('partial');
      throw new Error('source broke');
    }
    await expect(store.ingest(failing())).rejects.toThrow(/source broke/);
    expect(readdirSync(scratch)).toEqual([]);
  });
});

describe('OCI layout index', () => {
  it('serializes concurrent updates: every manifest is recorded', async () => {
    const layout = new OciLayout(path.join(tmp.dir, 'oci'));
    await layout.init();
    const digests = Array.from({ length: 20 }, (_, i) => sha256(Buffer.from(`m${i}`)));
    // Two layout objects on one dir, as two stores on one root would be.
    const other = new OciLayout(path.join(tmp.dir, 'oci'));
    await Promise.all(digests.map((d, i) => (i % 2 ? layout : other).addManifest(`fn-${i % 3}`, { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d, size: i })));
    const index = await layout.readIndex();
    expect(index.manifests.map((m) => m.digest).sort()).toEqual([...digests].sort());
    expect(index.manifests[0].annotations).toMatchObject({ 'io.hearth.function': expect.stringMatching(/^fn-/) });
    expect(readdirSync(path.join(tmp.dir, 'oci')).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
  });

  it('moves a re-recorded manifest to the end (latest deploy last)', async () => {
    const layout = new OciLayout(path.join(tmp.dir, 'oci'));
    const first = (await layout.readIndex()).manifests[0];
    await layout.addManifest(first.annotations?.['io.hearth.function'] ?? '', first);
    const after = (await layout.readIndex()).manifests;
    expect(after.at(-1)?.digest).toBe(first.digest);
    expect(after.filter((m) => m.digest === first.digest)).toHaveLength(1);
  });

  it('refuses to start over a corrupt index rather than forget every image', async () => {
    const dir = path.join(tmp.dir, 'bad-oci');
    await mkdir(dir);
    await writeFile(path.join(dir, 'index.json'), '{"not":"an index"}');
    await expect(new OciLayout(dir).init()).rejects.toThrow(/not an OCI image index/);
  });
});
