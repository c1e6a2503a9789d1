/**
 * The adversarial suite: each attack is a function deployed and invoked through the API. Every
 * attack must be contained, /healthz must keep answering, and a bystander function invoked in a
 * loop during all of them must keep answering correctly.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startHearth, type TestHearth } from '../helpers/hearth.ts';
import { containerLeftovers, waitFor } from '../helpers/host.ts';
import {
  Bystander,
  canConnect,
  containersOf,
  expectHealthy,
  hostPidsWith,
  probeFunctionSource,
  startHostRedis,
} from './helpers.ts';
import { hostOnlyAddress } from './stand-ins.ts';
import { ERRNO, forkBombElf, syscallProbeElf, SYS } from './syscall-probe.ts';

let h: TestHearth;
let redis: Awaited<ReturnType<typeof startHostRedis>>;
let bystander: Bystander;
let hostSecretDir: string;
const hostSecretFile = () => path.join(hostSecretDir, 'host-only.txt');
/** Every container an attack ran in: none may leave anything behind on the host. */
const attackContainers = new Set<string>();

async function deploy(name: string, source: string, config: Record<string, unknown> = {}): Promise<void> {
  const r = await h.deploy(name, source, config);
  expect(r.status, r.text).toBe(201);
}

async function attack(name: string, event: unknown = {}) {
  const r = await h.invoke(name, event);
  for (const id of await containersOf(h, name)) attackContainers.add(id);
  await expectHealthy(h);
  return r;
}

beforeAll(async () => {
  redis = await startHostRedis();
  hostSecretDir = await mkdtemp(path.join(os.tmpdir(), 'hearth-host-secret-'));
  await writeFile(hostSecretFile(), 'host-secret-contents');
  h = await startHearth({ env: { REDIS_URL: redis.url } });
  await deploy('bystander', Bystander.SOURCE);
  expect((await h.invoke('bystander', { n: 0 })).body).toMatchObject({ double: 0 });
  bystander = new Bystander(h);
  bystander.start();
});

afterAll(async () => {
  await bystander?.stop();
  await h?.close();
  await redis?.close();
  if (hostSecretDir) await rm(hostSecretDir, { recursive: true, force: true });
});

describe('attacks from a function are contained', () => {
  it('cannot read host files: /etc/shadow, a host-only file, the data dir, /proc/1/root', async () => {
    await deploy(
      'read-host',
      `import { readFileSync, readdirSync } from 'node:fs';
      const tryRead = (p) => { try { return 'READ:' + readFileSync(p, 'utf8').slice(0, 200); } catch (e) { return e.code; } };
      const tryList = (p) => { try { return readdirSync(p); } catch (e) { return e.code; } };
      export default (e) => ({
        shadow: tryRead('/etc/shadow'),
        hostFile: tryRead(e.hostFile),
        dataDir: tryList(e.dataDir),
        viaPid1: tryRead('/proc/1/root/etc/shadow'),
        passwd: tryRead('/etc/passwd'),
        rootHome: tryList('/root'),
      });`,
    );
    const r = await attack('read-host', { hostFile: hostSecretFile(), dataDir: h.dataDir });
    expect(r.status).toBe(200);
    // The host has these; the container's filesystem is only the image.
    expect(readFileSync(hostSecretFile(), 'utf8')).toBe('host-secret-contents');
    expect(r.body).toMatchObject({ shadow: 'ENOENT', hostFile: 'ENOENT', dataDir: 'ENOENT', viaPid1: 'ENOENT' });
    // The image's own (empty) /root, not the host's.
    expect([[], 'ENOENT']).toContainEqual(r.body.rootHome);
    // /etc/passwd is the image's two-line file, not the host's.
    expect(r.body.passwd).toContain('hearth:x:1000');
    expect(r.body.passwd).not.toContain('daemon:');
  });

  it('cannot write to the rootfs, /dev or /proc/self/exe', async () => {
    await deploy(
      'write-rootfs',
      `import { writeFileSync, mkdirSync, chmodSync } from 'node:fs';
      const t = (f) => { try { f(); return 'ok'; } catch (e) { return e.code; } };
      export default () => ({
        fn: t(() => writeFileSync('/function/index.mjs', 'x')),
        node: t(() => writeFileSync('/usr/bin/node', 'x')),
        agent: t(() => writeFileSync('/hearth/agent.cjs', 'x')),
        etc: t(() => writeFileSync('/etc/passwd', 'x')),
        mkdir: t(() => mkdirSync('/evil')),
        chmod: t(() => chmodSync('/usr/bin/node', 0o4777)),
        dev: t(() => writeFileSync('/dev/evil', 'x')),
        exe: t(() => writeFileSync('/proc/self/exe', 'x')),
        tmp: t(() => writeFileSync('/tmp/fine', 'x')),
      });`,
    );
    const r = await attack('write-rootfs');
    expect(r.status).toBe(200);
    expect(r.body.tmp).toBe('ok');
    for (const key of ['fn', 'node', 'agent', 'etc', 'mkdir', 'chmod', 'dev', 'exe']) expect(['EROFS', 'EACCES', 'EPERM', 'ETXTBSY']).toContain(r.body[key]);
  });

  it('filling /tmp stops at its size cap (ENOSPC) and the next container starts with an empty /tmp', async () => {
    await deploy(
      'fill-tmp',
      `import { writeFileSync, appendFileSync, readdirSync, existsSync } from 'node:fs';
      export default (e) => {
        if (e.check) return { leftover: existsSync('/tmp/fill') };
        const chunk = Buffer.alloc(1 << 20, 120);
        let mb = 0;
        writeFileSync('/tmp/fill', '');
        try { for (;;) { appendFileSync('/tmp/fill', chunk); mb++; } } catch (err) { return { mb, code: err.code }; }
      };`,
      { memoryMb: 256, idleTimeoutMs: 100 },
    );
    const r = await attack('fill-tmp');
    expect(r.status).toBe(200);
    expect(r.body.code).toBe('ENOSPC');
    expect(r.body.mb).toBeLessThanOrEqual(64);
    await waitFor(async () => (await containersOf(h, 'fill-tmp')).length === 0, 10_000);
    expect((await attack('fill-tmp', { check: true })).body).toEqual({ leftover: false });
  });

  it('a fork bomb hits the pids limit; the timeout recycles the container and no process survives', async () => {
    const token = `bomb${Date.now()}`;
    await deploy(
      'fork-bomb',
      `import { writeFileSync, chmodSync } from 'node:fs';
      import { spawn } from 'node:child_process';
      const elf = Buffer.from(${JSON.stringify(forkBombElf().toString('base64'))}, 'base64');
      export default async (e) => {
        const p = '/tmp/' + e.token;
        writeFileSync(p, elf); chmodSync(p, 0o755);
        spawn(p, [], { stdio: 'ignore', detached: true }).unref();
        await new Promise(() => {}); // wait for the timeout
      };`,
      { timeoutMs: 3000 },
    );
    const pending = attack('fork-bomb', { token });
    // While it runs: the pids cgroup holds it at its limit and counts the refused forks.
    let pidsEvents = '';
    await waitFor(async () => {
      const [id] = await containersOf(h, 'fork-bomb');
      if (!id) return false;
      attackContainers.add(id);
      try {
        pidsEvents = readFileSync(`/sys/fs/cgroup/pids/hearth/${h.hearth.instance}/${id}/pids.events`, 'utf8');
        return /max [1-9]/.test(pidsEvents);
      } catch {
        return false;
      }
    }, 10_000);
    expect(hostPidsWith(token).length).toBeGreaterThan(0);
    const r = await pending;
    expect(r.status).toBe(504);
    expect(r.body.error.code).toBe('timeout');
    await waitFor(() => hostPidsWith(token).length === 0, 10_000);
  });

  it('allocating past the memory limit is out_of_memory', async () => {
    await deploy(
      'memory-hog',
      `const keep = [];
      export default () => { for (;;) keep.push(Buffer.alloc(16 << 20, 1)); };`,
      { memoryMb: 128 },
    );
    const r = await attack('memory-hog');
    expect(r.status).toBe(500);
    expect(r.body.error.code).toBe('out_of_memory');
  });

  it('spinning the CPU past the timeout is a timeout, and the function serves again afterwards', async () => {
    await deploy('cpu-spin', `export default (e) => { if (e.spin) for (;;) {} return 'fine'; };`, { timeoutMs: 1000 });
    const r = await attack('cpu-spin', { spin: true });
    expect(r.status).toBe(504);
    expect(r.body.error.code).toBe('timeout');
    expect((await attack('cpu-spin', {})).body).toBe('fine');
  });

  it('native code cannot open raw/packet/vsock sockets, mount, unshare, setns, ptrace, keyctl, bpf or load modules', async () => {
    const probes = {
      // Controls: the probe works, and allowed syscalls succeed.
      getpid: syscallProbeElf(SYS.getpid),
      tcpSocket: syscallProbeElf(SYS.socket, [2, 1, 0]),
      rawSocket: syscallProbeElf(SYS.socket, [2, 3, 1]), // AF_INET, SOCK_RAW, ICMP
      packetSocket: syscallProbeElf(SYS.socket, [17, 3, 0x0300]), // AF_PACKET, ETH_P_ALL
      vsockSocket: syscallProbeElf(SYS.socket, [40, 1, 0]),
      mount: syscallProbeElf(SYS.mount),
      unshareUser: syscallProbeElf(SYS.unshare, [0x10000000]),
      unshareNet: syscallProbeElf(SYS.unshare, [0x40000000]),
      setns: syscallProbeElf(SYS.setns, [0, 0]),
      cloneNewns: syscallProbeElf(SYS.clone, [0x10000000 | 17]),
      clone3: syscallProbeElf(SYS.clone3),
      ptraceAttachPid1: syscallProbeElf(SYS.ptrace, [16, 1]),
      keyctlJoin: syscallProbeElf(SYS.keyctl, [1, 0]),
      addKey: syscallProbeElf(SYS.add_key),
      bpf: syscallProbeElf(SYS.bpf, [5, 0, 0]),
      perfEventOpen: syscallProbeElf(SYS.perf_event_open),
      initModule: syscallProbeElf(SYS.init_module),
      finitModule: syscallProbeElf(SYS.finit_module, [0, 0, 0]),
      deleteModule: syscallProbeElf(SYS.delete_module),
      kexecLoad: syscallProbeElf(SYS.kexec_load),
      ioUringSetup: syscallProbeElf(SYS.io_uring_setup, [1, 0]),
      userfaultfd: syscallProbeElf(SYS.userfaultfd),
      chroot: syscallProbeElf(SYS.chroot),
    };
    await deploy('native-syscalls', probeFunctionSource(probes));
    const r = await attack('native-syscalls');
    expect(r.status, r.text).toBe(200);
    const { getpid, tcpSocket, clone3, ...denied } = r.body as Record<string, number>;
    expect({ getpid, tcpSocket }).toEqual({ getpid: 0, tcpSocket: 0 });
    // clone3 answers ENOSYS so that glibc falls back to clone, whose flags seccomp can check.
    expect(clone3).toBe(ERRNO.ENOSYS);
    for (const [name, errno] of Object.entries(denied)) expect({ name, errno }).toEqual({ name, errno: ERRNO.EPERM });
  });

  it('cannot connect to the host Redis or the Hearth API (network none: only its own loopback)', async () => {
    const apiPort = Number(new URL(h.url).port);
    // A host address other than loopback is a veth of the test's own, never the
    // machine's real ones; a service bound to 0.0.0.0 answers on it (the control below).
    const hostAddress = hostOnlyAddress();
    const wildcard = net.createServer((s) => {
      s.on('error', () => {}); // the control hangs up at once
      s.end('host service');
    });
    await new Promise<void>((resolve) => wildcard.listen(0, '0.0.0.0', resolve));
    const wildcardPort = (wildcard.address() as net.AddressInfo).port;
    onTestFinished(() => {
      wildcard.close();
      hostAddress.remove();
    });
    const targets = [
      { host: '127.0.0.1', port: redis.port },
      { host: '127.0.0.1', port: apiPort },
      { host: hostAddress.addr, port: redis.port },
      { host: hostAddress.addr, port: apiPort },
      { host: hostAddress.addr, port: wildcardPort },
    ];
    // Control: from the host, the loopback ones and the wildcard service are open.
    expect(await canConnect('127.0.0.1', redis.port)).toBe(true);
    expect(await canConnect('127.0.0.1', apiPort)).toBe(true);
    expect(await canConnect(hostAddress.addr, wildcardPort)).toBe(true);
    await deploy(
      'connect-host',
      `import net from 'node:net';
      const tryConnect = ({ host, port }) => new Promise((resolve) => {
        const s = net.connect({ host, port });
        const done = (v) => { s.destroy(); resolve(host + ':' + port + ' ' + v); };
        s.setTimeout(1500, () => done('TIMEOUT'));
        s.once('connect', () => done('CONNECTED'));
        s.once('error', (e) => done(e.code));
      });
      export default async (e) => Promise.all(e.targets.map(tryConnect));`,
    );
    const r = await attack('connect-host', { targets });
    expect(r.status).toBe(200);
    expect(r.body).toHaveLength(targets.length);
    for (const line of r.body as string[]) expect(line).not.toMatch(/CONNECTED/);
  });

  it('/proc/kcore is absent or masked, /proc/sysrq-trigger and /proc/sys are read-only', async () => {
    await deploy(
      'proc-attack',
      `import { readFileSync, writeFileSync, existsSync } from 'node:fs';
      const t = (f) => { try { const v = f(); return v === undefined ? 'ok' : v; } catch (e) { return e.code; } };
      export default () => ({
        kcoreExists: existsSync('/proc/kcore'),
        kcore: t(() => 'read ' + readFileSync('/proc/kcore').length + ' bytes'),
        sysrq: t(() => writeFileSync('/proc/sysrq-trigger', 'h')),
        corePattern: t(() => writeFileSync('/proc/sys/kernel/core_pattern', '|/tmp/x')),
        keys: t(() => 'read ' + readFileSync('/proc/keys').length + ' bytes'),
        sysfs: t(() => writeFileSync('/sys/kernel/uevent_helper', '/tmp/x')),
      });`,
    );
    const r = await attack('proc-attack');
    expect(r.status).toBe(200);
    // Where the kernel has them, kcore is masked (/dev/null: 0 bytes) and sysrq-trigger read-only;
    // this host's kernel has neither (no /proc/kcore, no CONFIG_MAGIC_SYSRQ), so they must be absent.
    expect(existsSync('/proc/kcore') ? ['read 0 bytes'] : ['ENOENT']).toContain(r.body.kcore);
    expect(existsSync('/proc/sysrq-trigger') ? ['EROFS', 'EACCES'] : ['ENOENT']).toContain(r.body.sysrq);
    expect(['EROFS', 'EACCES']).toContain(r.body.corePattern);
    expect(['ENOENT', 'read 0 bytes']).toContain(r.body.keys);
    expect(['EROFS', 'EACCES', 'ENOENT']).toContain(r.body.sysfs);
    console.info(`[security] /proc/kcore: ${r.body.kcore}; /proc/sysrq-trigger: ${r.body.sysrq}; core_pattern: ${r.body.corePattern}`);
  });

  it('a child left running after an invocation dies with the recycled container and never sees the next invocation', async () => {
    const token = `lurker${Date.now()}`;
    await deploy(
      'leave-child',
      `import { spawn } from 'node:child_process';
      import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
      export default (e) => {
        if (e.plant) {
          // Watches /tmp for whatever later invocations write, and prints it.
          spawn(process.execPath, ['-e', 'setInterval(() => { try { console.log(require("fs").readdirSync("/tmp").join(",")); } catch {} }, 50)', e.token], { stdio: 'inherit', detached: true }).unref();
          return 'planted';
        }
        writeFileSync('/tmp/next-secret', e.secret);
        const procs = readdirSync('/proc').filter((p) => /^\\d+$/.test(p)).map((p) => { try { return readFileSync('/proc/' + p + '/cmdline', 'utf8'); } catch { return ''; } });
        return { lurkerVisible: procs.some((c) => c.includes(e.token)) };
      };`,
      { idleTimeoutMs: 200 },
    );
    expect((await attack('leave-child', { plant: true, token })).body).toBe('planted');
    expect(hostPidsWith(token).length).toBe(1);
    // The idle reaper recycles the container: the lurker goes with its pid namespace.
    await waitFor(async () => (await containersOf(h, 'leave-child')).length === 0, 10_000);
    await waitFor(() => hostPidsWith(token).length === 0, 5000);
    const secret = `s-${Date.now()}`;
    const r = await attack('leave-child', { token, secret });
    expect(r.body).toEqual({ lurkerVisible: false });
    expect(r.headers.get('x-hearth-cold-start')).toBe('true');
  });

  it("cannot read another function's env", async () => {
    const secret = `victim-secret-${Date.now()}`;
    await deploy('victim', 'export default () => "ok"', { env: { VICTIM_SECRET: secret } });
    expect((await h.invoke('victim')).body).toBe('ok'); // running now, warm
    await deploy(
      'env-thief',
      `import { readdirSync, readFileSync } from 'node:fs';
      export default (e) => {
        const found = [];
        for (const p of readdirSync('/proc')) {
          if (!/^\\d+$/.test(p)) continue;
          for (const f of ['environ', 'cmdline']) {
            try { found.push(readFileSync('/proc/' + p + '/' + f, 'utf8')); } catch (err) { found.push(err.code); }
          }
        }
        return { text: found.join('\\n') + JSON.stringify(process.env), pids: readdirSync('/proc').filter((p) => /^\\d+$/.test(p)).length };
      };`,
    );
    const r = await attack('env-thief');
    expect(r.status).toBe(200);
    expect(r.body.text).not.toContain(secret);
    expect(r.body.text).not.toContain('VICTIM_SECRET');
    // Only its own container's processes (tini, node, maybe a short-lived helper) are visible.
    expect(r.body.pids).toBeLessThan(5);
  });

  it("cannot read another function's secrets: they are mounted only into the containers of functions that name them", async () => {
    const value = `db-password-${Date.now()}`;
    expect((await h.api('PUT', '/v1/secrets/victim-db', { value })).status).toBe(200);
    await deploy('secret-owner', `import { readFileSync } from 'node:fs'; export default () => readFileSync('/run/secrets/victim-db', 'utf8');`, { secrets: ['victim-db'] });
    // Control: the function that names the secret does read it.
    expect((await h.invoke('secret-owner')).body).toBe(value);
    await deploy(
      'secret-thief',
      `import { readdirSync, readFileSync } from 'node:fs';
      function walk(dir, out, depth) {
        let entries;
        try { entries = readdirSync(dir, { withFileTypes: true }); } catch (err) { out.push(dir + ':' + err.code); return; }
        for (const e of entries) {
          const p = dir + '/' + e.name;
          if (e.isDirectory() && depth > 0) walk(p, out, depth - 1);
          else { try { out.push(p + '=' + readFileSync(p, 'utf8').slice(0, 200)); } catch (err) { out.push(p + ':' + err.code); } }
        }
      }
      export default () => {
        const out = [];
        for (const dir of ['/run/secrets', '/run/hearth-secrets', '/run', '/tmp', '/proc/1/root/run']) walk(dir, out, 3);
        return out.join('\\n');
      };`,
    );
    const r = await attack('secret-thief');
    expect(r.status).toBe(200);
    expect(r.body).not.toContain(value);
    expect(r.body).toContain('/run/secrets:ENOENT');
    // Never returned by the API either.
    const described = await h.api('GET', '/v1/secrets/victim-db');
    expect(described.text).not.toContain(value);
    expect((await h.api('GET', '/v1/secrets')).text).not.toContain(value);
  });

  it('printing 1 GB to stdout is capped in the logs and does not hurt the server', async () => {
    await deploy(
      'flood-stdout',
      `import { spawn } from 'node:child_process';
      const MB = Buffer.alloc(1 << 20, 120);
      const write = (stream, n) => new Promise((resolve) => {
        const next = () => { while (n-- > 0) { if (!stream.write(MB)) return stream.once('drain', next); } resolve(); };
        next();
      });
      export default async () => {
        await write(process.stdout, 512); // through the agent's console capture
        // and straight to the container's stdout pipe, as a native program would
        const child = spawn(process.execPath, ['-e', 'const b = Buffer.alloc(1 << 20, 121); let n = 512; const w = () => { while (n-- > 0) if (!process.stdout.write(b)) return process.stdout.once("drain", w); }; w();'], { stdio: 'inherit' });
        await new Promise((r) => child.on('exit', r));
        return 'flooded';
      };`,
      { timeoutMs: 120_000 },
    );
    const rssBefore = process.memoryUsage().rss;
    const r = await attack('flood-stdout');
    expect(r.status, r.text.slice(0, 300)).toBe(200);
    // The child's writes block on a full pipe, so 'flooded' means Hearth read all 512 MB of it;
    // the per-invocation log cap (src/runtime/logs.ts) keeps what it stores small.
    expect(r.body).toBe('flooded');
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(256 << 20);
  });

  it('forging agent frames on fd 3 (an attachment the host never takes) ends in its own container being replaced', async () => {
    await deploy(
      'forge-frames',
      `import { writeSync } from 'node:fs';
      export default (event) => {
        if (event.forge) writeSync(3, '{"type":"log","id":null,"stream":"stdout","time":0,"line":"x","attachedBytes":4}\\nabcd');
        return 'still here';
      };`,
    );
    expect((await attack('forge-frames', {})).body).toBe('still here');
    const [before] = await containersOf(h, 'forge-frames');
    const forged = await attack('forge-frames', { forge: true });
    // The host refused the frame and destroyed the container, whatever came first: the result or the destruction.
    expect([200, 500]).toContain(forged.status);
    await waitFor(async () => !(await containersOf(h, 'forge-frames')).includes(before!), 10_000);
    expect((await attack('forge-frames', {})).body).toBe('still here');
  });

  it('the bystander answered correctly all along, and no attack container left anything on the host', async () => {
    await bystander.stop();
    expect(bystander.failures).toEqual([]);
    expect(bystander.ok).toBeGreaterThan(20);
    await expectHealthy(h);
    for (const fn of ['read-host', 'write-rootfs', 'fork-bomb', 'memory-hog', 'cpu-spin', 'native-syscalls', 'connect-host', 'proc-attack', 'env-thief', 'flood-stdout', 'forge-frames', 'victim', 'secret-owner', 'secret-thief']) {
      await h.api('DELETE', `/v1/functions/${fn}`);
    }
    await waitFor(async () => {
      for (const id of attackContainers) if ((await containerLeftovers(h, id)).length) return false;
      return true;
    }, 15_000);
  });
});
