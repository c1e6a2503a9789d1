/**
 * Names resolve for `network: "bridge"` containers: they get /etc/resolv.conf, with the
 * configured servers or the host's. Checked against a stand-in DNS server (dnsmasq) in a network
 * namespace this test creates, never a real resolver.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime, type Container, type ContainerOptions } from '../../src/runtime/index.ts';
import { renderResolvConf } from '../../src/runtime/spec/index.ts';
import { layersFor, tempStateDir, testInstance } from './fixtures.ts';
import { canRunContainers } from '../helpers/host.ts';

const DNSMASQ = ['/usr/sbin/dnsmasq', '/usr/bin/dnsmasq'].find((p) => existsSync(p));
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const tag = randomBytes(3).toString('hex');
/** The stand-in network: its own namespace, a veth to the host, a /30 from 198.18.0.0/15 (benchmarking range). */
const net = {
  ns: `hdns-${tag}`,
  hostIf: `hdns${tag}`,
  peerIf: `hdnsp${tag}`,
  hostAddr: `198.19.${parseInt(tag.slice(0, 2), 16)}.${(parseInt(tag.slice(2, 4), 16) & 0xfc) + 1}`,
  addr: '',
};
net.addr = net.hostAddr.replace(/\.(\d+)$/, (_, d) => `.${Number(d) + 1}`);

const PROBE = `
import dns from 'node:dns/promises';
import fs from 'node:fs';
import netModule from 'node:net';
const fetchByName = (host, port) => new Promise((resolve) => {
  const s = netModule.connect({ host, port });
  let data = '';
  s.setTimeout(3000, () => { s.destroy(); resolve('TIMEOUT'); });
  s.on('data', (d) => (data += d));
  s.once('end', () => resolve('DATA:' + data));
  s.once('error', (e) => resolve(e.code));
});
export default async (e) => {
  const resolvConf = fs.readFileSync('/etc/resolv.conf', 'utf8');
  if (!e.name) return { resolvConf };
  const { address } = await dns.lookup(e.name, { family: 4 });
  const answer = await fetchByName(e.name, e.port);
  let missing = 'resolved';
  try { await dns.lookup('missing.hearth.test', { family: 4 }); } catch (err) { missing = err.code; }
  return { resolvConf, address, answer, missing };
};`;

describe.skipIf(!canRunContainers || !DNSMASQ)('a resolver for networked containers (real runc, stand-in DNS)', () => {
  const instance = testInstance();
  let stateDir: string;
  let runtime: Runtime;
  let layers: string[];
  let dnsmasq: ChildProcess | undefined;
  let api: ChildProcess | undefined;
  let dnsLog = '';
  let seq = 0;
  const containers: Container[] = [];

  const create = async (over: Partial<ContainerOptions>): Promise<Container> => {
    const c = await runtime.createContainer({ id: `dns${++seq}`, layerDirs: layers, memoryMb: 128, env: {}, hostname: 'dns-probe', functionName: 'probe', version: 1, ...over });
    containers.push(c);
    return c;
  };
  const invoke = async (c: Container, event: unknown) => {
    const out = await c.invoke({ invocationId: `inv-${++seq}`, event, deadline: Date.now() + 15_000 });
    if (!out.ok) throw new Error(`${out.error.code}: ${out.error.message}`);
    return out.result as { resolvConf: string; address?: string; answer?: string; missing?: string };
  };

  beforeAll(async () => {
    ip('netns', 'add', net.ns);
    ip('link', 'add', net.hostIf, 'type', 'veth', 'peer', 'name', net.peerIf);
    ip('link', 'set', net.peerIf, 'netns', net.ns);
    ip('addr', 'add', `${net.hostAddr}/30`, 'dev', net.hostIf);
    ip('link', 'set', net.hostIf, 'up');
    ip('-n', net.ns, 'addr', 'add', `${net.addr}/30`, 'dev', net.peerIf);
    ip('-n', net.ns, 'link', 'set', net.peerIf, 'up');
    ip('-n', net.ns, 'link', 'set', 'lo', 'up');
    ip('-n', net.ns, 'route', 'add', 'default', 'via', net.hostAddr);
    // The "API" the function calls by name, and the DNS server that names it.
    api = spawn('ip', ['netns', 'exec', net.ns, process.execPath, '-e',
      `require('net').createServer((s) => s.end('hello by name')).listen(8443, '${net.addr}', () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      api!.stdout!.once('data', () => resolve());
      api!.once('exit', (c) => reject(new Error(`api listener exited (${c})`)));
    });
    dnsmasq = spawn('ip', ['netns', 'exec', net.ns, DNSMASQ!, '--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts',
      '--pid-file=', '--user=root', '--bind-interfaces', `--listen-address=${net.addr}`, '--local=/hearth.test/',
      `--host-record=api.hearth.test,${net.addr}`, '--log-queries', '--log-facility=-'], { stdio: ['ignore', 'ignore', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      dnsmasq!.stderr!.on('data', (d: Buffer) => {
        dnsLog += d.toString();
        if (dnsLog.includes('started')) resolve();
      });
      dnsmasq!.once('exit', (c) => reject(new Error(`dnsmasq exited (${c}): ${dnsLog}`)));
    });

    stateDir = await tempStateDir();
    runtime = new Runtime({ stateDir, instance });
    await runtime.start();
    layers = await layersFor(PROBE);
  });

  afterAll(async () => {
    await runtime?.close();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
    dnsmasq?.kill();
    api?.kill();
    try {
      ip('link', 'delete', net.hostIf);
    } catch {
      // Already gone.
    }
    try {
      ip('netns', 'delete', net.ns);
    } catch {
      // Already gone.
    }
  });

  it('a bridged container with configured servers resolves a name through them and calls the API by name', async () => {
    const c = await create({ network: 'bridge', dns: [net.addr] });
    const r = await invoke(c, { name: 'api.hearth.test', port: 8443 });
    expect(r.resolvConf).toBe(`# written by hearth for this container\nnameserver ${net.addr}\n`);
    expect(r.address).toBe(net.addr);
    expect(r.answer).toBe('DATA:hello by name');
    expect(r.missing).toBe('ENOTFOUND');
    // The stand-in server really was asked.
    expect(dnsLog).toMatch(/query\[A\] api\.hearth\.test/);
  });

  it('without configured servers a bridged container gets the host\'s resolver configuration', async () => {
    const c = await create({ network: 'bridge' });
    const r = await invoke(c, {});
    expect(r.resolvConf).toBe(renderResolvConf(undefined, readFileSync('/etc/resolv.conf', 'utf8')));
  });

  it('a `none` container keeps the image\'s empty resolv.conf (it has no network to ask)', async () => {
    const c = await create({ network: 'none' });
    expect((await invoke(c, {})).resolvConf).toBe('');
  });
});
