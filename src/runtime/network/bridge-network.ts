/**
 * `network: "bridge"`: each container gets its own named network namespace, wired by the CNI
 * bridge plugin (veth into a per-Hearth bridge, host-local IPAM, NAT out) and fenced by
 * firewall.ts. One BridgeNetwork per Runtime; everything it creates is named after the runtime's
 * instance, so sweep() finds a crashed predecessor's namespaces, rules and bridge.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from '../command.ts';
import { addNetworkList, CNI_VERSION, delNetworkList, findCniPath, type CniResult, type NetworkConfList } from './cni.ts';
import { firewallInstalled, installFirewall, removeFirewall, type FirewallOptions } from './firewall.ts';
import { createNetns, deleteNetns, listNetns, netnsPath } from './netns.ts';

/** Interface-name prefix of every Hearth bridge (IFNAMSIZ leaves 15 chars: "hth" + 12). */
export const BRIDGE_PREFIX = 'hth';
const IFNAME = 'eth0';

export interface BridgeNetworkOptions {
  /** The runtime's instance ([a-z0-9]{1,16}). */
  instance: string;
  /** Where host-local keeps its IP allocations. */
  stateDir: string;
  /** CNI plugin dir; default: the first of /usr/lib/cni, /opt/cni/bin that has `bridge`. */
  cniPath?: string;
  /** Default: a /24 in 10.128.0.0/10 picked from the instance, skipping routed ones. */
  subnet?: string;
  warn?: (message: string) => void;
}

export interface Attachment {
  /** Path runc joins: /run/netns/<name>. */
  path: string;
  /** The container's address, e.g. 10.140.7.2. */
  address: string;
}

/** 10.(128+a).b.0/24 from the instance hash, so two Hearths on one host rarely pick the same. */
export function defaultSubnet(instance: string, attempt = 0): string {
  const h = createHash('sha256').update(`${instance}/${attempt}`).digest();
  return `10.${128 + (h[0] % 64)}.${h[1]}.0/24`;
}

export class BridgeNetwork {
  readonly bridge: string;
  private readonly netnsPrefix: string;
  private readonly firewall: FirewallOptions;
  private ready: Promise<{ cniPath: string; list: NetworkConfList }> | undefined;
  private readonly results = new Map<string, CniResult>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly warn: (m: string) => void;

  constructor(private readonly opts: BridgeNetworkOptions) {
    const hash = createHash('sha256').update(opts.instance).digest('hex').slice(0, 12);
    this.bridge = `${BRIDGE_PREFIX}${hash}`;
    this.netnsPrefix = `hearth-${opts.instance}-`;
    this.firewall = { bridge: this.bridge, chainPrefix: `HEARTH-${hash}`, bridgePrefix: BRIDGE_PREFIX };
    this.warn = opts.warn ?? ((m) => console.warn(`[hearth network] ${m}`));
  }

  private get ipamDir(): string {
    return join(this.opts.stateDir, 'cni-ipam');
  }

  /** First bridged container: find the plugins, pick a free subnet, install the firewall. */
  private setup(): Promise<{ cniPath: string; list: NetworkConfList }> {
    this.ready ??= (async () => {
      const cniPath = this.opts.cniPath ?? findCniPath();
      if (!cniPath) throw new Error('network "bridge" needs the CNI plugins (apt-get install containernetworking-plugins)');
      const subnet = this.opts.subnet ?? (await this.freeSubnet());
      await installFirewall(this.firewall);
      const list: NetworkConfList = {
        cniVersion: CNI_VERSION,
        name: `hearth-${this.opts.instance}`,
        plugins: [
          {
            type: 'bridge',
            bridge: this.bridge,
            isGateway: true,
            ipMasq: true,
            hairpinMode: false,
            ipam: { type: 'host-local', ranges: [[{ subnet }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: this.ipamDir },
          },
        ],
      };
      return { cniPath, list };
    })();
    // A failed setup (e.g. no plugins) is retried by the next bridged container.
    this.ready.catch(() => (this.ready = undefined));
    return this.ready;
  }

  private async freeSubnet(): Promise<string> {
    const routes = (await runCommand('ip', ['-4', 'route', 'show'])).stdout;
    for (let attempt = 0; attempt < 32; attempt++) {
      const subnet = defaultSubnet(this.opts.instance, attempt);
      if (!routes.includes(subnet.replace(/\.0\/24$/, '.'))) return subnet;
    }
    throw new Error('no free subnet for the bridge network');
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p)).catch(() => {});
    return p;
  }

  /** Creates the container's namespace and wires it to the bridge. */
  attach(id: string): Promise<Attachment> {
    return this.track(this.doAttach(id));
  }

  private async doAttach(id: string): Promise<Attachment> {
    const { cniPath, list } = await this.setup();
    const name = this.netnsPrefix + id;
    const path = await createNetns(name);
    try {
      const result = await addNetworkList(cniPath, list, { containerId: name, netns: path, ifName: IFNAME });
      this.results.set(id, result);
      // L2 isolation: an isolated bridge port only talks to the bridge itself (the gateway), never
      // to another isolated port, whatever iptables sees.
      const veth = result.interfaces?.find((i) => !i.sandbox && i.name !== this.bridge);
      if (!veth) throw new Error('CNI result names no host-side veth');
      const r = await runCommand('ip', ['link', 'set', 'dev', veth.name, 'type', 'bridge_slave', 'isolated', 'on']);
      if (r.code !== 0) throw new Error(`isolating ${veth.name}: ${r.stderr.trim()}`);
      const address = result.ips?.[0]?.address.split('/')[0] ?? '';
      return { path, address };
    } catch (e) {
      await this.doDetach(id);
      throw e;
    }
  }

  /** Undoes attach (CNI DEL frees the IP and the NAT rule, then the namespace goes). Idempotent. */
  detach(id: string): Promise<void> {
    return this.track(this.doDetach(id));
  }

  private async doDetach(id: string): Promise<void> {
    const name = this.netnsPrefix + id;
    const ready = await this.ready?.catch(() => undefined);
    if (ready) {
      await delNetworkList(ready.cniPath, ready.list, { containerId: name, netns: netnsPath(name), ifName: IFNAME }, this.results.get(id)).catch(
        (e: Error) => this.warn(`CNI DEL for ${id}: ${e.message}`),
      );
    }
    this.results.delete(id);
    await deleteNetns(name).catch((e: Error) => this.warn(e.message));
  }

  /**
   * Removes everything this instance's network may have left: namespaces, the firewall chains,
   * the bridge and the IPAM state. Used at start (after a crash) and at close.
   */
  async sweep(): Promise<void> {
    await Promise.allSettled([...this.pending]);
    const leftovers = await listNetns(this.netnsPrefix);
    // The common case (never used, nothing left): two cheap checks instead of ~20 iptables calls.
    if (!leftovers.length && !this.ready && !existsSync(`/sys/class/net/${this.bridge}`) && !(await firewallInstalled(this.firewall))) return;
    if (leftovers.length) {
      // DEL needs the network config: set it up again (same names, so the same chains and bridge).
      const ready = await this.setup().catch(() => undefined);
      for (const name of leftovers) {
        if (ready) await delNetworkList(ready.cniPath, ready.list, { containerId: name, netns: netnsPath(name), ifName: IFNAME }).catch(() => {});
        await deleteNetns(name).catch((e: Error) => this.warn(e.message));
      }
    }
    await removeFirewall(this.firewall).catch((e: Error) => this.warn(`firewall: ${e.message}`));
    await runCommand('ip', ['link', 'delete', this.bridge]).catch(() => undefined);
    await rm(this.ipamDir, { recursive: true, force: true });
    this.ready = undefined;
    this.results.clear();
  }

  /** Waits for attaches/detaches in flight, then removes everything (see sweep). */
  close(): Promise<void> {
    return this.sweep();
  }
}
