/**
 * Stand-ins for the hosts a network test wants to prove unreachable. A test never aims at the
 * machine's own interfaces, a real metadata service or anything outside: it builds the target
 * here (a network namespace behind a veth), proves the host reaches it (the
 * control), and removes it afterwards. Addresses come from 198.18.0.0/15 (RFC 2544, benchmarking),
 * which no real network routes.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

function quietly(fn: () => void): void {
  try {
    fn();
  } catch {
    // Already gone.
  }
}

/** A /30 from 198.18.0.0/15 for a veth pair: [host side, namespace side]. */
function veth30(tag: string, secondHalf: boolean): [string, string] {
  const third = parseInt(tag.slice(0, 2), 16);
  const fourth = parseInt(tag.slice(2, 4), 16) & 0xfc;
  const net = `198.${secondHalf ? 19 : 18}.${third}`;
  return [`${net}.${fourth + 1}`, `${net}.${fourth + 2}`];
}

/**
 * A network namespace joined to the host by a veth pair: the host end holds `hostAddr`/30, the
 * namespace end `peerAddrs` (the first as a /30, the rest as /32s), with its default route back
 * through the host. Throws after undoing what it did.
 */
function namespaceBehindVeth(ns: string, hostIf: string, peerIf: string, hostAddr: string, peerAddrs: string[]): void {
  try {
    ip('netns', 'add', ns);
    ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', peerIf);
    ip('link', 'set', peerIf, 'netns', ns);
    ip('addr', 'add', `${hostAddr}/30`, 'dev', hostIf);
    ip('link', 'set', hostIf, 'up');
    peerAddrs.forEach((a, i) => ip('-n', ns, 'addr', 'add', `${a}/${i === 0 ? 30 : 32}`, 'dev', peerIf));
    ip('-n', ns, 'link', 'set', peerIf, 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('-n', ns, 'route', 'add', 'default', 'via', hostAddr);
  } catch (e) {
    quietly(() => ip('link', 'delete', hostIf));
    quietly(() => ip('netns', 'delete', ns));
    throw e;
  }
}

/** Spawns a TCP listener inside a namespace that answers `reply` and hangs up; resolves once it listens. */
async function listenIn(ns: string, host: string, port: number, reply: string): Promise<ChildProcess> {
  const script = `require('net').createServer((s) => { s.on('error', () => {}); s.end(${JSON.stringify(reply)}); })` +
    `.listen(${port}, ${JSON.stringify(host)}, () => console.log('up'))`;
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (c) => reject(new Error(`listener in ${ns} exited (${c})`)));
  });
  return child;
}

export interface StandIn {
  /** The address the listener answers on. */
  addr: string;
  port: number;
  /** What the listener sends before hanging up. */
  reply: string;
  remove(): void;
}

/**
 * "The internet": a namespace behind a veth with a /30 from 198.18.0.0/15, its default route back
 * through the host, and a listener on it. Bridged functions reach it through the host's NAT.
 */
export async function internetStandIn(port = 8443): Promise<StandIn & { hostAddr: string }> {
  const tag = randomBytes(3).toString('hex');
  const ns = `hinet-${tag}`;
  const hostIf = `hinet${tag}`;
  const peerIf = `hinetp${tag}`;
  const [hostAddr, addr] = veth30(tag, false);
  let listener: ChildProcess | undefined;
  const remove = () => {
    listener?.kill();
    quietly(() => ip('link', 'delete', hostIf));
    quietly(() => ip('netns', 'delete', ns));
  };
  try {
    namespaceBehindVeth(ns, hostIf, peerIf, hostAddr, [addr]);
    const reply = 'hello from the internet';
    listener = await listenIn(ns, addr, port, reply);
    return { addr, hostAddr, port, reply, remove };
  } catch (e) {
    remove();
    throw e;
  }
}

/**
 * The cloud metadata service, 169.254.169.254:80, played by a namespace of our own: the address
 * lives on the namespace's end of a veth and a host route sends that /32 there for as long as the
 * stand-in exists. A route the machine already had for exactly that /32 is put back on removal.
 */
export async function metadataStandIn(): Promise<StandIn> {
  const tag = randomBytes(3).toString('hex');
  const ns = `hmeta-${tag}`;
  const hostIf = `hmeta${tag}`;
  const peerIf = `hmetap${tag}`;
  const addr = '169.254.169.254';
  const [hostAddr, peerAddr] = veth30(tag, true);
  const previousRoute = ip('route', 'show', 'exact', `${addr}/32`).trim();
  let listener: ChildProcess | undefined;
  let routed = false;
  const remove = () => {
    listener?.kill();
    if (routed) quietly(() => ip('route', 'delete', `${addr}/32`, 'dev', hostIf));
    if (previousRoute) quietly(() => ip('route', 'add', ...previousRoute.split(/\s+/)));
    quietly(() => ip('link', 'delete', hostIf));
    quietly(() => ip('netns', 'delete', ns));
  };
  try {
    namespaceBehindVeth(ns, hostIf, peerIf, hostAddr, [peerAddr, addr]);
    if (previousRoute) ip('route', 'delete', `${addr}/32`);
    ip('route', 'add', `${addr}/32`, 'dev', hostIf, 'src', hostAddr);
    routed = true;
    const reply = 'metadata stand-in';
    listener = await listenIn(ns, addr, 80, reply);
    return { addr, port: 80, reply, remove };
  } catch (e) {
    remove();
    throw e;
  }
}

/**
 * A host address other than loopback, without touching the machine's real interfaces: the host
 * end of a veth of the test's own (its peer parked in an empty namespace; these kernels have no
 * `dummy` module) holds one address from 198.18.0.0/15. Services bound to 0.0.0.0 on the host
 * answer on it, as they would on eth0.
 */
export function hostOnlyAddress(): { addr: string; remove(): void } {
  const tag = randomBytes(3).toString('hex');
  const ns = `hdum-${tag}`;
  const hostIf = `hdum${tag}`;
  const [addr] = veth30(tag, true);
  const remove = () => {
    quietly(() => ip('link', 'delete', hostIf));
    quietly(() => ip('netns', 'delete', ns));
  };
  try {
    ip('netns', 'add', ns);
    ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', `hdump${tag}`, 'netns', ns);
    ip('addr', 'add', `${addr}/32`, 'dev', hostIf);
    ip('link', 'set', hostIf, 'up');
    return { addr, remove };
  } catch (e) {
    remove();
    throw e;
  }
}
