/**
 * The container engine's owner object: one per Hearth data dir. It scopes everything it creates by
 * `instance` (runc root /run/hearth/<instance>, cgroups /hearth/<instance>/<id>, bundles under
 * <stateDir>/containers), so start() can find and remove whatever a crashed predecessor left.
 */
import { mkdir, readdir, rmdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { childCgroups, removeEmptyCgroup } from './cgroups.ts';
import { removeResidue } from './cleanup.ts';
import { CodeCacheStore } from './code-cache-store.ts';
import { CodeCachePrecompiler, type PrecompileRequest } from './code-cache-precompile.ts';
import { Container } from './container.ts';
import { ContainerStartError } from './start-error.ts';
import { makeRootfsMountPoint, mountsUnder, rootfsBase, rootfsDir, unmount } from './rootfs.ts';
import { LayerBinds, removeLayerBinds } from './layer-binds.ts';
import { Runc } from './runc.ts';
import { ProcessSpawner } from './spawner/index.ts';
import { BridgeNetwork, writeResolvConf } from './network/index.ts';
import {
  FUNCTION_GID,
  FUNCTION_UID,
  functionSpec,
  mappedHostIds,
  UserNamespaceRanges,
  withNetworkNamespace,
  withResolvConf,
  withOverlayRoot,
  withUserNamespace,
  type SpecOpt,
} from './spec/index.ts';
import { prepareSecrets, removeAllSecrets, removeSecrets } from './secrets-dir.ts';
import type { ContainerOptions, RuntimeOptions } from './types.ts';
import { AgentFilesCache, codeCacheMode } from './agent-launch.ts';

const INSTANCE_RE = /^[a-z0-9]{1,16}$/;
const ID_RE = /^[A-Za-z0-9_.-]{1,128}$/;
/** runc state under /run, which is tmpfs on normal hosts: a reboot never leaves stale state. */
const RUNC_ROOT_BASE = '/run/hearth';
const CGROUP_BASE = '/hearth';

/**
 * @example
 * const runtime = new Runtime({ stateDir: join(dataDir, 'runtime'), instance: 'a1b2' });
 * await runtime.start();                      // also removes a crashed predecessor's containers
 * const c = await runtime.createContainer({ id: 'hello-1', layerDirs, memoryMb: 128, env: {},
 *   hostname: 'hello', functionName: 'hello', version: 1 });
 * const out = await c.invoke({ invocationId, event, deadline: Date.now() + 30_000 });
 * await runtime.close();
 */
export class Runtime {
  private readonly runc: Runc;
  /** Forks runc, mount and umount (a fork from this large process blocked its event loop). */
  private readonly spawner: ProcessSpawner;
  private readonly stateDir: string;
  /** Every container this runtime started and has not finished cleaning up, by id. */
  private readonly owned = new Map<string, Container>();
  /** Ids between createContainer's first await and registration: a duplicate must not race them. */
  private readonly reserved = new Set<string>();
  private readonly creating = new Set<Promise<void>>();
  /** Containers handed to callers (started successfully), until they are gone. */
  private readonly handedOut = new Set<Container>();
  private started = false;
  private closing = false;
  /** A distinct host uid/gid range per live container (user namespaces). */
  private readonly idRanges = new UserNamespaceRanges();
  /** Namespaces, bridge and firewall of `network: "bridge"` containers (set up on first use). */
  private readonly network: BridgeNetwork;
  /** The layers as runc reaches them from inside a container's user namespace. */
  private readonly layers: LayerBinds;
  /** V8 code caches of function bundles, by ContainerOptions.codeCacheKey. */
  private readonly codeCaches: CodeCacheStore;
  private readonly agentFiles = new AgentFilesCache();
  private readonly precompiler: CodeCachePrecompiler;

  private readonly warn: (message: string) => void;

  constructor(private readonly opts: RuntimeOptions) {
    this.warn = opts.onWarning ?? ((m) => console.warn(`[hearth runtime] ${m}`));
    if (!INSTANCE_RE.test(opts.instance)) throw new RangeError(`instance must match ${INSTANCE_RE}, got ${JSON.stringify(opts.instance)}`);
    this.stateDir = resolve(opts.stateDir);
    this.spawner = new ProcessSpawner(opts.instance, this.warn);
    this.runc = new Runc({ binary: opts.runc ?? 'runc', root: join(RUNC_ROOT_BASE, opts.instance), spawner: this.spawner });
    this.network = new BridgeNetwork({ instance: opts.instance, stateDir: this.stateDir, warn: this.warn });
    this.layers = new LayerBinds({ base: this.layersBase, run: this.spawner.exec });
    this.codeCaches = new CodeCacheStore(join(this.stateDir, 'code-cache'));
    this.precompiler = new CodeCachePrecompiler({ store: this.codeCaches, start: (o) => this.createContainer(o), warn: this.warn });
  }

  private get containersDir(): string {
    return join(this.stateDir, 'containers');
  }

  private get layersBase(): string {
    return `${this.runc.root}.layers`;
  }

  private get cgroupParent(): string {
    return `${CGROUP_BASE}/${this.opts.instance}`;
  }

  /** Checks runc works and removes everything a previous Runtime with this instance left behind. */
  async start(): Promise<{ runcVersion: string }> {
    const runcVersion = await this.runc.version();
    // A second start() must not sweep up this runtime's own live containers as "leftovers".
    if (this.started && !this.closing) return { runcVersion };
    await mkdir(this.runc.root, { recursive: true, mode: 0o700 });
    await mkdir(this.containersDir, { recursive: true });
    await this.removeLeftovers();
    await this.layers.start();
    await removeAllSecrets(this.opts.instance);
    this.started = true;
    this.closing = false;
    this.spawner.start();
    this.precompiler.start();
    return { runcVersion };
  }

  /**
   * Makes the code cache of a version's bundle ahead of its first start, in a container of its
   * image that compiles and exits (see code-cache-precompile.ts). A hint: never fails.
   */
  prepareCodeCache(r: PrecompileRequest): void {
    if (!this.started || this.closing) return;
    this.precompiler.request(r);
  }

  /** Drops the code cache of a key whose function version is gone (never fails). */
  discardCodeCache(key: string): Promise<void> {
    return this.codeCaches.remove(key).catch((e: Error) => this.warn(`removing a code cache: ${e.message}`));
  }

  createContainer(opts: ContainerOptions): Promise<Container> {
    const creating = this.create(opts);
    // close() waits for starts in progress, so none finishes (or cleans up) after close resolved.
    const settled = creating.then(
      () => {},
      () => {},
    );
    this.creating.add(settled);
    void settled.then(() => this.creating.delete(settled));
    return creating;
  }

  private async create(opts: ContainerOptions): Promise<Container> {
    if (!this.started || this.closing) throw new Error('runtime is not started');
    if (!ID_RE.test(opts.id) || opts.id === '.' || opts.id === '..') throw new RangeError(`invalid container id ${JSON.stringify(opts.id)}`);
    if (this.owned.has(opts.id) || this.reserved.has(opts.id)) throw new Error(`container ${opts.id} already exists`);

    const bundleDir = join(this.containersDir, opts.id);
    const cgroupPath = `${this.cgroupParent}/${opts.id}`;
    // Built first: a bad option (hostname, env) fails here, before anything needs cleaning.
    const params = {
      rootfsPath: rootfsDir(this.runc.root, opts.id),
      hostname: opts.hostname,
      memoryMb: opts.memoryMb,
      cpus: opts.cpus ?? 1,
      pidsLimit: opts.pidsLimit ?? 128,
      tmpfsMb: opts.tmpfsMb ?? 64,
      cgroupsPath: cgroupPath,
      env: opts.env,
      functionName: opts.functionName,
      version: opts.version,
    };
    functionSpec(params);

    const idRange = this.idRanges.allocate();
    let container: Container | undefined;
    let secretsDir: string | undefined;
    this.reserved.add(opts.id);
    const key = opts.codeCacheKey;
    const cached = key && !opts.codeCacheCompileOnly ? this.codeCaches.get(key) : Promise.resolve(undefined);
    try {
      // runc's root path (params.rootfsPath) is an empty dir it mounts the rootfs overlay on, in the
      // container's own mount namespace (withOverlayRoot): the host never mounts anything there.
      const [lowerDirs] = await Promise.all([this.layers.lowerDirs(opts.layerDirs), makeRootfsMountPoint(this.runc.root, opts.id)]);
      const extra: SpecOpt[] = [withUserNamespace(idRange), withOverlayRoot(lowerDirs)];
      if (opts.secrets && Object.keys(opts.secrets).length > 0) {
        // Owned by the function's uid as the host sees it through the container's id mapping.
        const prepared = await prepareSecrets(this.opts.instance, opts.id, opts.secrets, mappedHostIds(idRange, FUNCTION_UID, FUNCTION_GID));
        secretsDir = prepared.dir;
        extra.push(prepared.opt);
      }
      const [agent, codeCache] = await Promise.all([this.agentFiles.get(opts.layerDirs), cached]);
      // The agent waits for a cache that follows as the first message, or makes one.
      const agentArgs = key ? [`--code-cache=${codeCacheMode(opts, codeCache)}`] : [];
      const spec = functionSpec({ ...params, ...agent, agentArgs }, extra);
      await mkdir(bundleDir, { recursive: false });
      if (opts.network === 'bridge') {
        // A network without a resolver reaches nothing by name.
        withResolvConf(await writeResolvConf(bundleDir, opts.dns))(spec);
        withNetworkNamespace((await this.network.attach(opts.id)).path)(spec);
      }
      await writeFile(join(bundleDir, 'config.json'), JSON.stringify(spec));
      // close() may have run during the awaits above: it would not know about this container.
      if (this.closing) throw new Error('runtime is closing');
      const runcLogFile = join(bundleDir, 'runc.log');
      // --keep: the cgroup outlives the container so its OOM counter can be read after the exit.
      const runcProcess = await this.runc.run({ id: opts.id, bundle: bundleDir, logFile: runcLogFile, keep: true });
      container = new Container({
        id: opts.id,
        runc: this.runc,
        process: runcProcess,
        cgroupPath,
        bundleDir,
        runcLogFile,
        functionName: opts.functionName,
        version: opts.version,
        warn: this.warn,
        codeCaches: this.codeCaches,
        ...(key ? { codeCacheTarget: { key, kind: opts.codeCacheCompileOnly ? 'compiled' : 'ran' } } : {}),
        onGone: (c) => {
          this.idRanges.release(idRange.slot);
          if (opts.network === 'bridge') void this.network.detach(opts.id);
          if (this.owned.get(c.id) === c) this.owned.delete(c.id);
          this.handedOut.delete(c);
        },
      });
      if (secretsDir) {
        const dir = secretsDir;
        void container.exited.then(() => removeSecrets(dir)).catch(() => undefined);
      }
      if (codeCache) container.sendCodeCache(codeCache.data);
      this.owned.set(opts.id, container);
      this.reserved.delete(opts.id);
      await container.waitReady(opts.startTimeoutMs ?? 10_000);
      this.handedOut.add(container);
      return container;
    } catch (e) {
      this.reserved.delete(opts.id);
      if (container) await container.destroy('start failed');
      else {
        await removeResidue({ runc: this.runc, id: opts.id, cgroupPath, bundleDir });
        this.idRanges.release(idRange.slot);
        if (opts.network === 'bridge') await this.network.detach(opts.id);
        if (secretsDir) await removeSecrets(secretsDir).catch(() => undefined);
      }
      throw e instanceof ContainerStartError ? e : new ContainerStartError('exited', `container ${opts.id} failed to start: ${(e as Error).message}`);
    }
  }

  /** Containers createContainer returned that are not fully gone yet (a dying one has alive false). */
  containers(): Container[] {
    return [...this.handedOut];
  }

  /** Destroys every container it owns, then its (now empty) cgroup parents. */
  async close(): Promise<void> {
    this.closing = true;
    await this.precompiler.close();
    await Promise.all([...this.owned.values()].map((c) => c.destroy('runtime closed')));
    await Promise.all(this.creating);
    // A start that registered its container while we waited is destroyed too.
    await Promise.all([...this.owned.values()].map((c) => c.destroy('runtime closed')));
    await this.codeCaches.flush();
    await this.layers.close();
    await this.spawner.close();
    await this.network.close();
    await removeEmptyCgroup(this.cgroupParent);
    await removeEmptyCgroup(CGROUP_BASE);
    await removeAllSecrets(this.opts.instance).catch(() => {});
    // runc removes each container's state dir; drop the (now empty) root dirs too.
    await rmdir(this.runc.root).catch(() => {});
    await rmdir(rootfsBase(this.runc.root)).catch(() => {});
    await rmdir(RUNC_ROOT_BASE).catch(() => {});
  }

  /**
   * A previous Hearth may have died with containers running (its runc SIGKILLed, maybe mid-start):
   * every id runc knows, every cgroup under our parent and every bundle dir is residue now.
   */
  private async removeLeftovers(): Promise<void> {
    const ids = new Set<string>();
    try {
      for (const s of await this.runc.list()) ids.add(s.id);
    } catch {
      // A corrupt state dir can make list fail; the dir scan below still finds the ids.
    }
    for (const name of await readdir(this.runc.root).catch(() => [] as string[])) ids.add(name);
    for (const name of await childCgroups(this.cgroupParent)) ids.add(name);
    for (const name of await readdir(this.containersDir).catch(() => [] as string[])) ids.add(name);
    for (const name of await readdir(rootfsBase(this.runc.root)).catch(() => [] as string[])) ids.add(name);

    const problems: string[] = [];
    for (const id of ids) {
      if (!ID_RE.test(id) || id === '.' || id === '..') continue;
      const left = await removeResidue({
        runc: this.runc,
        id,
        cgroupPath: `${this.cgroupParent}/${id}`,
        bundleDir: join(this.containersDir, id),
      });
      problems.push(...left.map((p) => `${id}: ${p}`));
    }
    // Anything else mounted under our dir (a half-made bundle with an odd name).
    for (const m of await mountsUnder(this.containersDir)) await unmount(m).catch(() => {});
    for (const m of await mountsUnder(rootfsBase(this.runc.root))) await unmount(m).catch(() => {});
    await removeLayerBinds(this.layersBase);
    await removeEmptyCgroup(this.cgroupParent);
    await this.network.sweep();
    // Residue we cannot remove (e.g. a task stuck in D state) must not stop Hearth from starting.
    if (problems.length) this.warn(`could not remove all leftovers of a previous run:\n${problems.join('\n')}`);
  }
}
