/**
 * The iptables rules that keep bridged functions away from the host and from each other. They
 * live in chains of their own (one set per bridge), jumped to from INPUT and FORWARD, so
 * installing and removing them never touches anyone else's rules.
 *
 * - INPUT from the bridge: only replies to connections the host opened. A function reaches no
 *   service on any host address (the gateway, eth0, anything bound to 0.0.0.0).
 * - FORWARD: out to the world (NAT is the bridge plugin's ipMasq); not to another port of the
 *   same bridge (other containers; ports are also isolated at L2), not to another Hearth
 *   bridge, not to link-local addresses (cloud metadata services). Into the bridge: replies only.
 * - IPv6: the bridge has no IPv6 addresses; link-local traffic to the host is dropped too.
 */
import { runCommand } from '../command.ts';

export interface FirewallOptions {
  bridge: string;
  /** Chain name prefix, unique per bridge, <= 20 chars (iptables names max out at 28). */
  chainPrefix: string;
  /** Interface prefix of every Hearth bridge (traffic between them is refused). */
  bridgePrefix: string;
}

type Table = { bin: 'iptables' | 'ip6tables' };
const V4: Table = { bin: 'iptables' };
const V6: Table = { bin: 'ip6tables' };

async function ipt(t: Table, args: string[]): Promise<{ ok: boolean; stderr: string }> {
  // -w: wait for the xtables lock instead of failing when another process holds it.
  const r = await runCommand(t.bin, ['-w', '5', ...args]);
  return { ok: r.code === 0, stderr: r.stderr.trim() };
}

async function must(t: Table, args: string[]): Promise<void> {
  const r = await ipt(t, args);
  if (!r.ok) throw new Error(`${t.bin} ${args.join(' ')}: ${r.stderr}`);
}

function chains(o: FirewallOptions) {
  return { input: `${o.chainPrefix}-IN`, forward: `${o.chainPrefix}-FWD` };
}

function jumps(o: FirewallOptions): Array<[string, string[]]> {
  const c = chains(o);
  return [
    ['INPUT', ['-i', o.bridge, '-j', c.input]],
    ['FORWARD', ['-i', o.bridge, '-j', c.forward]],
    ['FORWARD', ['-o', o.bridge, '-j', c.forward]],
  ];
}

const REJECT = ['-j', 'REJECT'];
const ESTABLISHED = ['-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT'];

/** Installs the chains and the jumps to them (first in INPUT/FORWARD). Idempotent. */
export async function installFirewall(o: FirewallOptions): Promise<void> {
  await removeFirewall(o);
  const c = chains(o);
  for (const t of [V4, V6]) {
    await must(t, ['-N', c.input]);
    await must(t, ['-N', c.forward]);
  }
  // v4 input: replies to host-initiated connections only; everything else refused at once
  // (REJECT, not DROP: a function gets ECONNREFUSED instead of hanging until its timeout).
  await must(V4, ['-A', c.input, ...ESTABLISHED]);
  await must(V4, ['-A', c.input, ...REJECT]);
  // v4 forward.
  await must(V4, ['-A', c.forward, '-i', o.bridge, '-o', o.bridge, ...REJECT]);
  await must(V4, ['-A', c.forward, '-i', o.bridge, '-o', `${o.bridgePrefix}+`, ...REJECT]);
  await must(V4, ['-A', c.forward, '-i', o.bridge, '-d', '169.254.0.0/16', ...REJECT]);
  await must(V4, ['-A', c.forward, '-i', o.bridge, '-j', 'ACCEPT']);
  await must(V4, ['-A', c.forward, '-o', o.bridge, ...ESTABLISHED]);
  await must(V4, ['-A', c.forward, '-o', o.bridge, ...REJECT]);
  // v6: nothing at all.
  await must(V6, ['-A', c.input, '-j', 'DROP']);
  await must(V6, ['-A', c.forward, '-j', 'DROP']);
  for (const t of [V4, V6]) for (const [chain, rule] of jumps(o)) await must(t, ['-I', chain, '1', ...rule]);
}

/** Removes the jumps and the chains; whatever is already gone is skipped. */
export async function removeFirewall(o: FirewallOptions): Promise<void> {
  const c = chains(o);
  for (const t of [V4, V6]) {
    for (const [chain, rule] of jumps(o)) {
      // A rule may have been added twice by a crashed predecessor: delete until none is left.
      for (let i = 0; i < 10 && (await ipt(t, ['-D', chain, ...rule])).ok; i++);
    }
    for (const name of [c.input, c.forward]) {
      await ipt(t, ['-F', name]);
      await ipt(t, ['-X', name]);
    }
  }
}

/** Whether this bridge's chains exist (v4 is checked; v6 is installed and removed with it). */
export async function firewallInstalled(o: FirewallOptions): Promise<boolean> {
  return (await ipt(V4, ['-n', '-L', chains(o).input])).ok;
}
