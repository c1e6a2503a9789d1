import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManagedRedis } from '../../src/redis/index.ts';
import { startHearth, type TestHearth } from '../helpers/hearth.ts';
import { tempDir } from '../image/helpers.ts';
import { startRegistry, startTokenServer, type TestRegistry, type TestTokenServer } from '../image/registry-server.ts';

/**
 * Deploys push to a real registry (Debian's docker-registry on loopback) and a Hearth that lacks
 * an image pulls it by digest before its first container starts. Two Hearths share one Redis
 * (the catalog) but not their image stores, as two machines would.
 */
const run = promisify(execFile);
const USER = 'hearth';
const PASSWORD = 'correct horse battery staple';

let redisDir: Awaited<ReturnType<typeof tempDir>>;
let redis: ManagedRedis;
const open: TestHearth[] = [];

beforeAll(async () => {
  redisDir = await tempDir('reg-redis');
  redis = new ManagedRedis(redisDir.dir);
  await redis.start();
});

afterAll(async () => {
  for (const h of open.splice(0)) await h.close().catch(() => undefined);
  await redis?.close();
  await redisDir?.remove();
});

async function hearthFor(registry: string | undefined, creds?: { user: string; password: string }, extra: Record<string, string> = {}): Promise<TestHearth> {
  const env: Record<string, string> = { REDIS_URL: redis.url, ...extra };
  if (registry) env.HEARTH_REGISTRY = registry;
  if (creds) Object.assign(env, { HEARTH_REGISTRY_USER: creds.user, HEARTH_REGISTRY_PASSWORD: creds.password });
  const h = await startHearth({ env });
  open.push(h);
  return h;
}

async function closeHearth(h: TestHearth): Promise<void> {
  open.splice(open.indexOf(h), 1);
  await h.close();
}

const storeHas = (h: TestHearth, digest: string): boolean =>
  existsSync(path.join(h.dataDir, 'images', 'oci', 'blobs', 'sha256', digest.slice('sha256:'.length)));

describe('a registry with Basic auth (htpasswd)', () => {
  let registry: TestRegistry;
  let repoPrefix: string;

  beforeAll(async () => {
    registry = await startRegistry({ kind: 'basic', username: USER, password: PASSWORD });
    repoPrefix = `${registry.host}/team/fns`;
  });

  afterAll(async () => {
    await registry?.close();
  });

  it('every deploy pushes: blobs uploaded once, the base layer mounted across repositories; an identical redeploy pushes nothing', async () => {
    const a = await hearthFor(repoPrefix, { user: USER, password: PASSWORD });
    const first = await a.deploy('pushed', 'export default (e) => ({ hello: e?.who ?? "world", v: 1 })');
    expect(first.status).toBe(201);
    expect(first.body.registry).toMatchObject({
      reference: `${repoPrefix}/pushed@${first.body.digest}`,
      uploadedBlobs: 3,
      mountedBlobs: 0,
      tagged: true,
    });
    expect(first.body.image).toBe(first.body.registry.reference);
    console.info(`push of a first image (base + function layer + config): ${first.body.registry.uploadedBytes} bytes in ${first.body.registry.pushMs} ms; build ${first.body.buildMs} ms`);

    const other = await a.deploy('pushed-two', 'export default () => "two"');
    expect(other.body.registry).toMatchObject({ uploadedBlobs: 2, mountedBlobs: 1, skippedBlobs: 0 });
    expect(other.body.registry.uploadedBytes).toBeLessThan(10_000);
    console.info(`push of a second function (base mounted): ${other.body.registry.uploadedBytes} bytes in ${other.body.registry.pushMs} ms`);

    const again = await a.deploy('pushed', 'export default (e) => ({ hello: e?.who ?? "world", v: 1 })');
    expect(again.body).toMatchObject({ version: 1, unchanged: true });
    expect(again.body.registry).toBeUndefined();

    // skopeo reads what was pushed, by tag and by digest.
    const creds = `--creds=${USER}:${PASSWORD}`;
    const inspect = JSON.parse((await run('skopeo', ['inspect', '--tls-verify=false', creds, `docker://${repoPrefix}/pushed:v1`])).stdout) as { Digest: string; Layers: string[] };
    expect(inspect.Digest).toBe(first.body.digest);
    expect(inspect.Layers).toEqual(first.body.layers.map((l: { digest: string }) => l.digest));

    const out = await tempDir('skopeo-pull');
    try {
      await run('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `--src-creds=${USER}:${PASSWORD}`, `docker://${repoPrefix}/pushed@${first.body.digest}`, `oci:${out.dir}/layout:pulled`]);
      const index = JSON.parse(await readFile(path.join(out.dir, 'layout', 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
      expect(index.manifests.map((m) => m.digest)).toEqual([first.body.digest]);
      const bundle = path.join(out.dir, 'bundle');
      await run('umoci', ['unpack', '--image', `${out.dir}/layout:pulled`, bundle]);
      expect(await readFile(path.join(bundle, 'rootfs', 'function', 'index.cjs'), 'utf8')).toContain('hello');
    } finally {
      await out.remove();
    }

    // Anonymous access is refused: the registry really checks.
    const anonymous = await run('skopeo', ['inspect', '--tls-verify=false', `docker://${repoPrefix}/pushed:v1`]).then(
      () => '',
      (err: { stderr: string }) => err.stderr,
    );
    expect(anonymous).toMatch(/unauthorized|authentication required/i);
  });

  it('a Hearth whose store lacks the image pulls it by digest before the first container starts', async () => {
    // The first Hearth is gone; a second one shares only Redis and the registry.
    for (const h of [...open]) await closeHearth(h);
    const b = await hearthFor(repoPrefix, { user: USER, password: PASSWORD });
    const record = (await b.api('GET', '/v1/functions/pushed')).body as { digest: string };
    expect(storeHas(b, record.digest)).toBe(false);
    const started = performance.now();
    const res = await b.invoke('pushed', { who: 'B' });
    console.info(`first invoke on a Hearth without the image (pull + unpack + cold start): ${Math.round(performance.now() - started)} ms`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ hello: 'B', v: 1 });
    expect(storeHas(b, record.digest)).toBe(true);
    // A pinned version of another function is pulled the same way.
    const pinned = await b.api('POST', '/v1/functions/pushed-two/invoke?version=1', {});
    expect(pinned.body).toBe('two');
  });

  it('a blob the registry serves corrupted is refused: nothing runs, nothing is named', async () => {
    for (const h of [...open]) await closeHearth(h);
    const a = await hearthFor(repoPrefix, { user: USER, password: PASSWORD });
    const dep = await a.deploy('spoiled', 'export default () => "fresh"');
    expect(dep.status).toBe(201);
    await closeHearth(a);
    const fnLayer = dep.body.layers[1].digest as string;
    const data = await readFile(registry.blobDataPath(fnLayer));
    data[data.length - 20] ^= 0xff;
    await writeFile(registry.blobDataPath(fnLayer), data);

    const c = await hearthFor(repoPrefix, { user: USER, password: PASSWORD });
    const res = await c.invoke('spoiled', {});
    // The image cannot be had: an infrastructure failure, not the function's.
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('image_unavailable');
    expect(res.body.error.message).toMatch(/digest mismatch/);
    expect(storeHas(c, dep.body.digest)).toBe(false);
    expect(storeHas(c, fnLayer)).toBe(false);
    expect(readdirSync(path.join(c.dataDir, 'images', 'tmp'))).toEqual([]);
  });

  it('a layer blob corrupted in the local store is fetched again from the registry, verified', async () => {
    for (const h of [...open]) await closeHearth(h);
    const dataDir = (await tempDir('reg-heal')).dir;
    const env = { REDIS_URL: redis.url, HEARTH_REGISTRY: repoPrefix, HEARTH_REGISTRY_USER: USER, HEARTH_REGISTRY_PASSWORD: PASSWORD };
    const a = await startHearth({ env, dataDir });
    let again: TestHearth | undefined;
    try {
      const dep = await a.deploy('healed', 'export default () => "healed"');
      await a.close();
      const fnLayer = dep.body.layers[1].digest as string;
      const local = path.join(dataDir, 'images', 'oci', 'blobs', 'sha256', fnLayer.slice(7));
      const bytes = await readFile(local);
      bytes[bytes.length - 20] ^= 0xff;
      await writeFile(local, bytes);
      const manifest = JSON.parse(await readFile(path.join(dataDir, 'images', 'oci', 'blobs', 'sha256', dep.body.digest.slice(7)), 'utf8')) as { config: { digest: string } };
      const config = JSON.parse(await readFile(path.join(dataDir, 'images', 'oci', 'blobs', 'sha256', manifest.config.digest.slice(7)), 'utf8')) as { rootfs: { diff_ids: string[] } };
      await rm(path.join(dataDir, 'images', 'layers', 'sha256', config.rootfs.diff_ids[1]!.slice(7)), { recursive: true });

      again = await startHearth({ env, dataDir });
      const res = await again.invoke('healed', {});
      expect(res.status).toBe(200);
      expect(res.body).toBe('healed');
      expect(createHash('sha256').update(await readFile(local)).digest('hex')).toBe(fnLayer.slice(7));
    } finally {
      await again?.close();
      await a.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('wrong credentials fail the deploy with a clear error and record no version', async () => {
    const bad = await hearthFor(repoPrefix, { user: USER, password: 'wrong' });
    const res = await bad.deploy('never-pushed', 'export default () => 1');
    expect(res.status).toBe(500);
    expect(res.body.error.message).toMatch(/no version was recorded.*refused the credentials/);
    expect((await bad.api('GET', '/v1/functions/never-pushed')).status).toBe(404);
  });
});

describe('a registry with Bearer token auth', () => {
  let token: TestTokenServer;
  let registry: TestRegistry;

  beforeAll(async () => {
    token = await startTokenServer({ username: USER, password: PASSWORD });
    registry = await startRegistry({ kind: 'token', token });
  });

  afterAll(async () => {
    await registry?.close();
    await token?.close();
  });

  it('pushes and pulls with tokens from the realm the registry names', async () => {
    for (const h of [...open]) await closeHearth(h);
    const a = await hearthFor(`${registry.host}/tok`, { user: USER, password: PASSWORD });
    const dep = await a.deploy('tokened', 'export default () => "bearer ok"');
    expect(dep.status).toBe(201);
    expect(dep.body.registry).toMatchObject({ uploadedBlobs: 3, tagged: true });
    const second = await a.deploy('tokened-two', 'export default () => "two"');
    expect(second.body.registry).toMatchObject({ mountedBlobs: 1 });
    expect(token.requests.length).toBeGreaterThan(0);
    expect(token.requests.every((r) => r.authorized)).toBe(true);
    const scopes = token.requests.flatMap((r) => r.scopes);
    expect(scopes.some((s) => /^repository:tok\/tokened:(push,pull|pull,push)$/.test(s))).toBe(true);
    expect(scopes).toContain('repository:tok/tokened:pull');
    // Tokens are cached per scope: not one token request per registry request.
    expect(token.requests.length).toBeLessThan(10);
    await closeHearth(a);

    const b = await hearthFor(`${registry.host}/tok`, { user: USER, password: PASSWORD });
    const res = await b.invoke('tokened', {});
    expect(res.status).toBe(200);
    expect(res.body).toBe('bearer ok');

    // skopeo speaks the same token flow against the same registry.
    const inspect = JSON.parse((await run('skopeo', ['inspect', '--tls-verify=false', `--creds=${USER}:${PASSWORD}`, `docker://${registry.host}/tok/tokened:v1`])).stdout) as { Digest: string };
    expect(inspect.Digest).toBe(dep.body.digest);
  });
});

describe('a registry that is down', () => {
  it('fails the deploy with a clear error and records no version', async () => {
    // A port that was free a moment ago: nothing listens there.
    const gone = await startRegistry();
    const host = gone.host;
    await gone.close();
    const h = await hearthFor(host);
    const res = await h.deploy('unshipped', 'export default () => 1');
    expect(res.status).toBe(500);
    expect(res.body.error.message).toContain(`registry ${host} is unreachable: ECONNREFUSED`);
    expect((await h.api('GET', '/v1/functions/unshipped')).status).toBe(404);
  });
});
