/**
 * `network: "bridge"`: out to "the internet" (a listener in another network namespace on this
 * machine), but not to any host address, not to the host's Redis or API, not to another
 * container, not to link-local metadata; `none` reaches nothing. Everything the bridge set up is
 * gone after close. Every target is a stand-in this file creates (stand-ins.ts): the suite never
 * sends a packet to the machine's real interfaces or to a real metadata service.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BridgeNetwork } from '../../src/runtime/network/index.ts';
import { startHearth, type TestHearth } from '../helpers/hearth.ts';
import { Bystander, canConnect, expectHealthy, startHostRedis } from './helpers.ts';
import { hostOnlyAddress, internetStandIn, metadataStandIn, type StandIn } from './stand-ins.ts';

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
let h: TestHearth;
let redis: Awaited<ReturnType<typeof startHostRedis>>;
let bystander: Bystander;
let inet: Awaited<ReturnType<typeof internetStandIn>>;
let metadata: StandIn;
let hostOnly: ReturnType<typeof hostOnlyAddress>;
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
  inet = await internetStandIn();
  metadata = await metadataStandIn();
  hostOnly = hostOnlyAddress();
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
  inet?.remove();
  metadata?.remove();
  hostOnly?.remove();
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
    expect(r.body.results.internet).toBe(`DATA:${inet.reply}`);
    expect(r.body.address).not.toBe(serverAddress);
    await expectHealthy(h);
  });

  it('a bridged function reaches no host service, no other container and no metadata address', async () => {
    const apiPort = Number(new URL(h.url).port);
    const onGateway = await hostListener(gateway);
    const onHostVeth = await hostListener(inet.hostAddr);
    const onHostOnly = await hostListener(hostOnly.addr);
    const onAnyAddress = await hostListener('0.0.0.0');
    // Controls: each of these is really listening, as seen from the host.
    expect(await canConnect(gateway, onGateway)).toBe(true);
    expect(await canConnect(inet.hostAddr, onHostVeth)).toBe(true);
    expect(await canConnect(hostOnly.addr, onHostOnly)).toBe(true);
    expect(await canConnect(hostOnly.addr, onAnyAddress)).toBe(true);
    expect(await canConnect(metadata.addr, metadata.port)).toBe(true);
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
      hostServiceOnHostOnlyAddress: { host: hostOnly.addr, port: onHostOnly },
      wildcardServiceViaHostOnlyAddress: { host: hostOnly.addr, port: onAnyAddress },
      wildcardServiceViaGateway: { host: gateway, port: onAnyAddress },
      apiViaHostOnlyAddress: { host: hostOnly.addr, port: apiPort },
      redisViaHostOnlyAddress: { host: hostOnly.addr, port: redis.port },
      metadata: { host: metadata.addr, port: metadata.port },
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
    expect(again.body.results.internet).toBe(`DATA:${inet.reply}`);
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


