import { existsSync, readdirSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHearth, type TestHearth } from '../helpers/hearth.ts';
import { waitFor } from '../helpers/host.ts';

let h: TestHearth;

beforeAll(async () => {
  h = await startHearth();
});

afterAll(async () => {
  await h?.close();
});

const images = (hh: TestHearth, ...p: string[]): string => path.join(hh.dataDir, 'images', ...p);
const blobPath = (hh: TestHearth, digest: string): string => images(hh, 'oci', 'blobs', 'sha256', digest.slice('sha256:'.length));
const layerPath = (hh: TestHearth, diffId: string): string => images(hh, 'layers', 'sha256', diffId.slice('sha256:'.length));
const blobCount = (hh: TestHearth): number => readdirSync(images(hh, 'oci', 'blobs', 'sha256')).length;
const layerCount = (hh: TestHearth): number => readdirSync(images(hh, 'layers', 'sha256')).length;

/** Reads an image straight from the OCI layout on disk: its layer blob digests and diffIds. */
async function imageOnDisk(hh: TestHearth, digest: string): Promise<{ layers: string[]; diffIds: string[]; config: string }> {
  const manifest = JSON.parse(await readFile(blobPath(hh, digest), 'utf8')) as { config: { digest: string }; layers: { digest: string }[] };
  const config = JSON.parse(await readFile(blobPath(hh, manifest.config.digest), 'utf8')) as { rootfs: { diff_ids: string[] } };
  return { layers: manifest.layers.map((l) => l.digest), diffIds: config.rootfs.diff_ids, config: manifest.config.digest };
}

/** Sleeps `ms` from the event, then answers `tag`: a slow invocation keeps its container busy. */
const sleeper = (tag: string): string =>
  `export default async (e) => { await new Promise((r) => setTimeout(r, e?.ms ?? 0)); return { tag: ${JSON.stringify(tag)}, version: process.env.V ?? null }; }`;

type PoolEntry = { id: string; function: string; version: number; state: string; retiring: boolean };
const poolOf = async (name: string): Promise<PoolEntry[]> =>
  ((await h.api('GET', '/v1/pool')).body.containers as PoolEntry[]).filter((c) => c.function === name);

describe('layers and reproducibility', () => {
  it('ten functions store the base layer once and add one small layer each', async () => {
    const blobsBefore = blobCount(h);
    const layersBefore = layerCount(h);
    const deployed = [];
    for (let i = 0; i < 10; i++) {
      const res = await h.deploy(`ten-${i}`, `export default () => ({ i: ${i} })`);
      expect(res.status).toBe(201);
      deployed.push(res.body as { digest: string; layers: { digest: string; size: number }[] });
    }
    const bases = new Set(deployed.map((d) => d.layers[0]!.digest));
    expect(bases.size).toBe(1);
    // Per function: its layer, its config, its manifest. The base adds nothing.
    expect(blobCount(h) - blobsBefore).toBe(30);
    expect(layerCount(h) - layersBefore).toBe(10);
    const base = deployed[0]!.layers[0]!;
    for (const d of deployed) {
      expect(d.layers).toHaveLength(2);
      expect(d.layers[1]!.size).toBeLessThan(base.size / 1000);
    }
    console.info(`base layer ${base.size} bytes compressed; a function layer ${deployed[0]!.layers[1]!.size} bytes`);
    expect((await h.invoke('ten-7', {})).body).toEqual({ i: 7 });
  });

  it('deploying the same source and config twice gives the same image digest, so no new version', async () => {
    const src = 'export default (e) => ({ echo: e })';
    const one = await h.deploy('twice', src, { memoryMb: 192 });
    const two = await h.deploy('twice', src, { memoryMb: 192 });
    expect(one.body.unchanged).toBe(false);
    expect(two.body).toMatchObject({ version: one.body.version, digest: one.body.digest, unchanged: true });
    const three = await h.deploy('twice', src, { memoryMb: 256 });
    expect(three.body.digest).not.toBe(one.body.digest);
    expect(three.body).toMatchObject({ version: one.body.version + 1, unchanged: false });
  });

  it('reports the store size in GET /v1/functions/:name', async () => {
    const res = await h.api('GET', '/v1/functions/ten-3');
    expect(res.status).toBe(200);
    const { storage } = res.body as { storage: { imageBytes: number; store: { totalBytes: number; blobBytes: number; layerBytes: number; blobs: number; layers: number } } };
    expect(storage.store.blobs).toBe(blobCount(h));
    expect(storage.store.layers).toBe(layerCount(h));
    expect(storage.store.totalBytes).toBe(storage.store.blobBytes + storage.store.layerBytes);
    // The unpacked base layer holds the ~100 MB node binary.
    expect(storage.store.layerBytes).toBeGreaterThan(50_000_000);
    expect(storage.imageBytes).toBeGreaterThan(10_000_000);
  });
});

describe('versions and rollback', () => {
  it('lists versions, rolls back, drains warm containers of the other version, and pins versions on invoke', async () => {
    expect((await h.deploy('roll', sleeper('one'))).body.version).toBe(1);
    expect((await h.invoke('roll', {})).body.tag).toBe('one');
    expect((await h.deploy('roll', sleeper('two'))).body.version).toBe(2);
    // The v1 container was idle: reaped at the deploy.
    await waitFor(async () => (await poolOf('roll')).every((c) => c.version === 2), 10_000);

    const slow = h.invoke('roll', { ms: 4000 });
    await waitFor(async () => (await poolOf('roll')).some((c) => c.version === 2 && c.state === 'busy'), 20_000);

    const rolled = await h.api('POST', '/v1/functions/roll/rollback', { version: 1 });
    expect(rolled.status).toBe(200);
    expect(rolled.body).toMatchObject({ name: 'roll', version: 1, versions: 2 });
    // The busy v2 container finishes its invocation but takes no more.
    const during = await poolOf('roll');
    expect(during.filter((c) => c.version === 2)).toEqual([expect.objectContaining({ state: 'busy', retiring: true })]);

    const now = await h.invoke('roll', {});
    expect(now.body.tag).toBe('one');
    expect(now.headers.get('x-hearth-cold-start')).toBe('true');
    const finished = await slow;
    expect(finished.status).toBe(200);
    expect(finished.body.tag).toBe('two');
    await waitFor(async () => (await poolOf('roll')).every((c) => c.version === 1), 10_000);

    const versions = await h.api('GET', '/v1/functions/roll/versions');
    expect(versions.status).toBe(200);
    expect(versions.body.versions.map((v: { version: number; current: boolean }) => [v.version, v.current])).toEqual([
      [1, true],
      [2, false],
    ]);
    for (const v of versions.body.versions) {
      expect(v).toMatchObject({ digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), createdAt: expect.any(String) });
    }
    expect((await h.api('GET', '/v1/functions/roll')).body).toMatchObject({ version: 1, versions: 2 });

    // A pinned invoke runs its version; the current one stays as it is.
    const pinned = await h.api('POST', '/v1/functions/roll/invoke?version=2', {});
    expect(pinned.status).toBe(200);
    expect(pinned.body.tag).toBe('two');
    expect((await h.invoke('roll', {})).body.tag).toBe('one');
    expect((await h.api('POST', '/v1/functions/roll/invoke?version=3', {})).status).toBe(404);
    expect((await h.api('POST', '/v1/functions/roll/invoke?version=zero', {})).status).toBe(400);

    // A deploy after a rollback gets the next number, never reuses one.
    expect((await h.deploy('roll', sleeper('three'))).body.version).toBe(3);
    expect((await h.invoke('roll', {})).body.tag).toBe('three');
  });

  it('answers bad rollbacks clearly', async () => {
    await h.deploy('roll-bad', 'export default () => 1');
    expect((await h.api('POST', '/v1/functions/roll-bad/rollback', { version: 9 })).body.error).toMatchObject({
      code: 'not_found',
      message: expect.stringContaining('version 9'),
    });
    expect((await h.api('POST', '/v1/functions/nobody/rollback', { version: 1 })).status).toBe(404);
    expect((await h.api('POST', '/v1/functions/roll-bad/rollback', { version: 'one' })).status).toBe(400);
    expect((await h.api('POST', '/v1/functions/roll-bad/rollback', {})).status).toBe(400);
    expect((await h.api('GET', '/v1/functions/nobody/versions')).status).toBe(404);
  });
});

describe('garbage collection', () => {
  it('deleting a function frees its storage; POST /v1/gc reports what it removed', async () => {
    const dep = await h.deploy('short-lived', 'export default () => "bye"');
    expect((await h.invoke('short-lived', {})).body).toBe('bye');
    const img = await imageOnDisk(h, dep.body.digest);
    const fnLayer = layerPath(h, img.diffIds[1]!);
    const baseLayer = layerPath(h, img.diffIds[0]!);
    expect(existsSync(fnLayer)).toBe(true);
    const before = (await h.api('GET', '/v1/functions/ten-0')).body.storage.store;

    expect((await h.api('DELETE', '/v1/functions/short-lived')).status).toBe(204);
    expect(existsSync(fnLayer)).toBe(false);
    expect(existsSync(blobPath(h, dep.body.digest))).toBe(false);
    expect(existsSync(blobPath(h, img.layers[1]!))).toBe(false);
    expect(existsSync(blobPath(h, img.config))).toBe(false);
    // Shared with every other function.
    expect(existsSync(baseLayer)).toBe(true);
    expect(existsSync(blobPath(h, img.layers[0]!))).toBe(true);
    const index = JSON.parse(await readFile(images(h, 'oci', 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    expect(index.manifests.map((m) => m.digest)).not.toContain(dep.body.digest);
    const after = (await h.api('GET', '/v1/functions/ten-0')).body.storage.store;
    expect(after.totalBytes).toBeLessThan(before.totalBytes);

    const gc = await h.api('POST', '/v1/gc');
    expect(gc.status).toBe(200);
    expect(gc.body).toMatchObject({ removedBlobs: 0, removedLayers: 0, store: { blobs: blobCount(h), layers: layerCount(h) } });
    // Every version of every function survives, old ones included (a rollback needs them).
    for (let i = 0; i < 10; i++) expect((await h.invoke(`ten-${i}`, {})).body).toEqual({ i });
    expect((await h.api('POST', '/v1/functions/roll/invoke?version=1', {})).body.tag).toBe('one');
  });

  it('removes blobs nobody names, and temp files of writers that died', async () => {
    const stray = Buffer.from('not referenced by anything');
    const { createHash } = await import('node:crypto');
    const digest = `sha256:${createHash('sha256').update(stray).digest('hex')}`;
    await writeFile(blobPath(h, digest), stray);
    // pid 2^22 + 1 is above Linux's pid_max limit: certainly not a live process.
    const leftover = images(h, 'tmp', 'blob-4194305-0123456789ab');
    await writeFile(leftover, 'half a blob');
    const gc = await h.api('POST', '/v1/gc');
    expect(gc.body).toMatchObject({ removedBlobs: 1, removedTemp: 1 });
    expect(existsSync(blobPath(h, digest))).toBe(false);
    expect(existsSync(leftover)).toBe(false);
  });

  it('also runs on a schedule (HEARTH_GC_INTERVAL_MS)', async () => {
    const own = await startHearth({ env: { HEARTH_GC_INTERVAL_MS: '200' } });
    try {
      const dep = await own.deploy('kept', 'export default () => "kept"');
      const stray = blobPath(own, `sha256:${'e'.repeat(64)}`);
      await writeFile(stray, 'nobody names me');
      await waitFor(() => !existsSync(stray), 10_000);
      expect(existsSync(blobPath(own, dep.body.digest))).toBe(true);
      expect((await own.invoke('kept', {})).body).toBe('kept');
    } finally {
      await own.close();
    }
  });

  it('never removes the layers under a running container, even once its function is gone', async () => {
    const dep = await h.deploy('busy-gone', sleeper('busy'));
    const img = await imageOnDisk(h, dep.body.digest);
    const fnLayer = layerPath(h, img.diffIds[1]!);
    const running = h.invoke('busy-gone', { ms: 4000 });
    await waitFor(async () => (await poolOf('busy-gone')).some((c) => c.state === 'busy'), 20_000);
    // DELETE waits for in-flight invocations; the record goes first.
    const deleting = h.api('DELETE', '/v1/functions/busy-gone');
    await waitFor(async () => (await h.api('GET', '/v1/functions/busy-gone')).status === 404, 10_000);

    const gc = await h.api('POST', '/v1/gc');
    expect(gc.status).toBe(200);
    expect((await poolOf('busy-gone')).map((c) => c.state)).toEqual(['busy']);
    expect(existsSync(fnLayer)).toBe(true);
    expect(existsSync(blobPath(h, dep.body.digest))).toBe(true);

    expect((await running).body.tag).toBe('busy');
    expect((await deleting).status).toBe(204);
    await waitFor(async () => (await poolOf('busy-gone')).length === 0, 10_000);
    await h.api('POST', '/v1/gc');
    expect(existsSync(fnLayer)).toBe(false);
  });
});

describe('bad blobs', () => {
  it('a corrupt layer blob is refused and never run; nothing half-unpacked stays', async () => {
    const own = await startHearth();
    try {
      const dep = await own.deploy('tampered', 'export default () => "original"');
      expect(dep.status).toBe(201);
      const img = await imageOnDisk(own, dep.body.digest);
      await own.hearth.close();
      // Same length, other bytes: only the digest can tell.
      const file = blobPath(own, img.layers[1]!);
      const bytes = await readFile(file);
      bytes[bytes.length - 20] ^= 0xff;
      await writeFile(file, bytes);
      await rm(layerPath(own, img.diffIds[1]!), { recursive: true });

      const again = await startHearth({ dataDir: own.dataDir });
      try {
        const res = await again.invoke('tampered', {});
        expect(res.status).toBe(500);
        expect(res.body.error.message).toMatch(/corrupt/);
        expect(existsSync(layerPath(again, img.diffIds[1]!))).toBe(false);
        expect(readdirSync(images(again, 'tmp'))).toEqual([]);
      } finally {
        await again.close();
      }
    } finally {
      await own.close();
      await rm(own.dataDir, { recursive: true, force: true });
    }
  });
});
