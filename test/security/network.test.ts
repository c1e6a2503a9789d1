/**
 * `network: "bridge"`: out to "the internet" (a listener in another network namespace on this
 * machine), but not to any host address, not to the host's Redis or API, not to another
 * container, not to link-local metadata; `none` reaches nothing. Everything the bridge set up is
 * gone after close.
 */
import { spawn, type ChildProcess, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BridgeNetwork } from '../../src/runtime/network/index.ts';
import { startHearth, type TestHearth } from '../helpers/hearth.ts';
import { Bystander, canConnect, expectHealthy, startHostRedis } from './helpers.ts';

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const tag = randomBytes(3).toString('hex');
/** The stand-in for the internet: its own namespace, a veth to the host, a /30 from 198.18.0.0/15. */
const inet = {
  ns: `hinet-${tag}`,
  hostIf: `hinet${tag}`,
  peerIf: `hinetp${tag}`,
  hostAddr: `198.18.${parseInt(tag.slice(0, 2), 16)}.${(parseInt(tag.slice(2, 4), 16) & 0xfc) + 1}`,
  addr: '',
  port: 0,
};
inet.addr = inet.hostAddr.replace(/\.(\d+)$/, (_, d) => `.${Number(d) + 1}`);

let h: TestHearth;
let redis: Awaited<ReturnType<typeof startHostRedis>>;
let bystander: Bystander;
let internetServer: ChildProcess | undefined;
const hostServers: net.Server[] = [];

async function hostListener(host: string): Promise<number> {
  const server = net.createServer((s) => {
    s.on('error', () => {}); // the controls hang up at once
    s.end('host service');
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  hostServers.push(server);
  return (server.address() as net.AddressInfo).port;
}

const PROBE = `
import net from 'node:net';
import os from 'node:os';
const tryConnect = ({ host, port }) => new Promise((resolve) => {
  const s = net.connect({ host, port });
  let data = '';
  const done = (v) => { s.destroy(); resolve(v); };
  s.setTimeout(2000, () => done('TIMEOUT'));
  s.on('data', (d) => (data += d));
  s.once('end', () => done('DATA:' + data));
  s.once('error', (e) => done(e.code));
});
let server;
export default async (e) => {
  if (e.serve && !server) {
    server = net.createServer((s) => s.end('container secret'));
    await new Promise((r) => server.listen(8080, '0.0.0.0', r));
  }
  const address = (os.networkInterfaces().eth0 ?? []).find((a) => a.family === 'IPv4')?.address ?? null;
  const results = {};
  for (const [name, t] of Object.entries(e.targets ?? {})) results[name] = await tryConnect(t);
  return { address, results };
};`;

beforeAll(async () => {
  ip('netns', 'add', inet.ns);
  ip('link', 'add', inet.hostIf, 'type', 'veth', 'peer', 'name', inet.peerIf);
  ip('link', 'set', inet.peerIf, 'netns', inet.ns);
  ip('addr', 'add', `${inet.hostAddr}/30`, 'dev', inet.hostIf);
  ip('link', 'set', inet.hostIf, 'up');
  ip('-n', inet.ns, 'addr', 'add', `${inet.addr}/30`, 'dev', inet.peerIf);
  ip('-n', inet.ns, 'link', 'set', inet.peerIf, 'up');
  ip('-n', inet.ns, 'link', 'set', 'lo', 'up');
  ip('-n', inet.ns, 'route', 'add', 'default', 'via', inet.hostAddr);
  inet.port = 8443;
  internetServer = spawn('ip', ['netns', 'exec', inet.ns, process.execPath, '-e',
    `require('net').createServer((s) => s.end('hello from the internet')).listen(${inet.port}, '${inet.addr}', () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    internetServer!.stdout!.once('data', () => resolve());
    internetServer!.once('exit', (c) => reject(new Error(`internet listener exited (${c})`)));
  });

  redis = await startHostRedis();
  h = await startHearth({ env: { REDIS_URL: redis.url } });
  for (const [name, network] of [['probe', 'bridge'], ['server', 'bridge'], ['probe-none', 'none']] as const) {
    const r = await h.deploy(name, PROBE, { network });
    expect(r.status, r.text).toBe(201);
  }
  await h.deploy('bystander', Bystander.SOURCE, { network: 'bridge' });
  bystander = new Bystander(h);
  bystander.start();
});

afterAll(async () => {
  await bystander?.stop();
  await h?.close();
  await redis?.close();
  for (const s of hostServers) await new Promise((r) => s.close(r));
  internetServer?.kill();
  try {
    ip('link', 'delete', inet.hostIf);
  } catch {
    // Already gone.
  }
  try {
    ip('netns', 'delete', inet.ns);
  } catch {
    // Already gone.
  }
});

describe('network isolation', () => {
  let serverAddress: string;
  let gateway: string;

  it('a bridged function reaches the internet (NAT) and has an address on the bridge', async () => {
    const server = await h.invoke('server', { serve: true });
    expect(server.status, server.text).toBe(200);
    serverAddress = server.body.address;
    expect(serverAddress).toMatch(/^10\.\d+\.\d+\.\d+$/);
    gateway = serverAddress.replace(/\.\d+$/, '.1');

    const r = await h.invoke('probe', { targets: { internet: { host: inet.addr, port: inet.port } } });
    expect(r.status, r.text).toBe(200);
    expect(r.body.results.internet).toBe('DATA:hello from the internet');
    expect(r.body.address).not.toBe(serverAddress);
    await expectHealthy(h);
  });

  it('a bridged function reaches no host service, no other container and no metadata address', async () => {
    const apiPort = Number(new URL(h.url).port);
    const onGateway = await hostListener(gateway);
    const onHostVeth = await hostListener(inet.hostAddr);
    const eth0 = Object.values(os.networkInterfaces()).flat().find((a) => a && !a.internal && a.family === 'IPv4')?.address;
    // Controls: each of these is really listening, as seen from the host.
    expect(await canConnect(gateway, onGateway)).toBe(true);
    expect(await canConnect(inet.hostAddr, onHostVeth)).toBe(true);
    expect(await canConnect(serverAddress, 8080)).toBe(true);
    expect(await canConnect('127.0.0.1', redis.port)).toBe(true);
    expect(await canConnect('127.0.0.1', apiPort)).toBe(true);

    const targets: Record<string, { host: string; port: number }> = {
      hostServiceOnGateway: { host: gateway, port: onGateway },
      hostServiceOnOtherAddress: { host: inet.hostAddr, port: onHostVeth },
      otherContainer: { host: serverAddress, port: 8080 },
      redisLoopback: { host: '127.0.0.1', port: redis.port },
      apiLoopback: { host: '127.0.0.1', port: apiPort },
      redisViaGateway: { host: gateway, port: redis.port },
      apiViaGateway: { host: gateway, port: apiPort },
      metadata: { host: '169.254.169.254', port: 80 },
      ...(eth0 ? { apiViaEth0: { host: eth0, port: apiPort }, redisViaEth0: { host: eth0, port: redis.port } } : {}),
    };
    const r = await h.invoke('probe', { targets });
    expect(r.status, r.text).toBe(200);
    console.info(`[security] from a bridged function: ${JSON.stringify(r.body.results)}`);
    for (const [name, outcome] of Object.entries(r.body.results as Record<string, string>)) {
      expect({ name, outcome }).toEqual({ name, outcome: expect.not.stringMatching(/^DATA:/) });
      expect(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'TIMEOUT']).toContain(outcome);
    }
    // And the internet still works from the same container.
    const again = await h.invoke('probe', { targets: { internet: { host: inet.addr, port: inet.port } } });
    expect(again.body.results.internet).toBe('DATA:hello from the internet');
  });

  it('a `none` function has only loopback: no internet, no host, no containers', async () => {
    const r = await h.invoke('probe-none', {
      targets: { internet: { host: inet.addr, port: inet.port }, otherContainer: { host: serverAddress, port: 8080 }, gateway: { host: gateway, port: 22 } },
    });
    expect(r.status, r.text).toBe(200);
    expect(r.body.address).toBeNull();
    for (const outcome of Object.values(r.body.results as Record<string, string>)) expect(outcome).toBe('ENETUNREACH');
  });

  it('the bystander on the same bridge answered correctly, and close removes namespaces, rules and bridge', async () => {
    await bystander.stop();
    expect(bystander.failures).toEqual([]);
    expect(bystander.ok).toBeGreaterThan(3);
    const instance = h.hearth.instance;
    const bridge = new BridgeNetwork({ instance, stateDir: '/nonexistent' }).bridge;
    expect(existsSync(`/sys/class/net/${bridge}`)).toBe(true);
    expect(ip('netns', 'list')).toContain(`hearth-${instance}-`);
    await h.close();
    expect(ip('netns', 'list')).not.toContain(`hearth-${instance}-`);
    expect(existsSync(`/sys/class/net/${bridge}`)).toBe(false);
    const rules = execFileSync('iptables', ['-w', '5', '-S']).toString() + execFileSync('iptables', ['-w', '5', '-t', 'nat', '-S']).toString();
    expect(rules).not.toContain(bridge);
    expect(rules).not.toContain(`HEARTH-${bridge.slice(3)}`);
  });
});


