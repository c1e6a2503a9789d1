/**
 * A resolver for containers with a network: /etc/resolv.conf bind-mounted read-only from a file
 * the runtime writes per container. The content is pure: tested without a host.
 */
import { isIP } from 'node:net';
import { withMount } from './options.ts';
import type { SpecOpt } from './types.ts';

export const RESOLV_CONF_PATH = '/etc/resolv.conf';
/** glibc reads at most three nameserver lines. */
export const MAX_NAMESERVERS = 3;

/** A loopback resolver (systemd-resolved's 127.0.0.53, a local dnsmasq) is the host's own, unreachable from a container. */
function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1';
}

/**
 * What the container should use from the host's resolv.conf: its nameservers minus loopback ones
 * (the container's own loopback has no resolver), and its search and options lines.
 */
export function containerResolvConf(hostText: string): { nameservers: string[]; extra: string[] } {
  const nameservers: string[] = [];
  const extra: string[] = [];
  for (const raw of hostText.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [key, ...rest] = line.split(/\s+/);
    if (key === 'nameserver' && rest[0] && isIP(rest[0].split('%')[0] ?? '') !== 0 && !isLoopback(rest[0])) nameservers.push(rest[0]);
    else if ((key === 'search' || key === 'domain' || key === 'options') && rest.length > 0) extra.push(line);
  }
  return { nameservers: nameservers.slice(0, MAX_NAMESERVERS), extra };
}

/** The file's text: configured servers win over the host's; with neither, no nameserver line. */
export function renderResolvConf(configured: string[] | undefined, hostText: string | undefined): string {
  for (const s of configured ?? []) if (isIP(s) === 0) throw new RangeError(`dns server ${JSON.stringify(s)} is not an IP address`);
  const host = hostText === undefined ? { nameservers: [], extra: [] } : containerResolvConf(hostText);
  const servers = configured && configured.length > 0 ? configured.slice(0, MAX_NAMESERVERS) : host.nameservers;
  const lines = ['# written by hearth for this container', ...servers.map((s) => `nameserver ${s}`)];
  // The host's search domains only make sense with the host's servers.
  if (!(configured && configured.length > 0)) lines.push(...host.extra);
  return `${lines.join('\n')}\n`;
}

/** Mounts `source` (a host file) read-only at /etc/resolv.conf; the image ships an empty one to mount over. */
export function withResolvConf(source: string): SpecOpt {
  if (!source.startsWith('/')) throw new RangeError('resolv.conf source must be absolute');
  return withMount({ destination: RESOLV_CONF_PATH, type: 'bind', source, options: ['bind', 'ro', 'nosuid', 'nodev', 'noexec'] });
}
