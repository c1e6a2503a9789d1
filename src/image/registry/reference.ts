/** Where images go: `HEARTH_REGISTRY=host[:port][/prefix]`. */
export interface RegistryLocation {
  /** "host:port" as written (the registry's authority). */
  host: string;
  /** Repository path prefix without slashes at either end; "" for none. */
  prefix: string;
  /** "http:" for loopback registries, "https:" otherwise. */
  protocol: 'http:' | 'https:';
}

const HOST_RE = /^(?:[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:]+\])(?::\d{1,5})?$/i;
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

/**
 * Parses `HEARTH_REGISTRY`. Plain HTTP is used only for loopback hosts (as Docker treats
 * localhost registries as insecure by default); anything else must speak TLS.
 */
export function parseRegistry(value: string): RegistryLocation {
  const trimmed = value.trim().replace(/^(?:https?:\/\/)/, '').replace(/\/+$/, '');
  const slash = trimmed.indexOf('/');
  const host = slash === -1 ? trimmed : trimmed.slice(0, slash);
  const prefix = slash === -1 ? '' : trimmed.slice(slash + 1);
  if (!HOST_RE.test(host)) throw new Error(`HEARTH_REGISTRY: ${JSON.stringify(value)} does not start with host[:port]`);
  if (prefix !== '' && !prefix.split('/').every((c) => PATH_COMPONENT_RE.test(c))) {
    throw new Error(`HEARTH_REGISTRY: ${JSON.stringify(prefix)} is not a repository path (lowercase letters, digits, . _ -)`);
  }
  return { host, prefix, protocol: isLoopback(host) ? 'http:' : 'https:' };
}

export function isLoopback(host: string): boolean {
  const name = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '').toLowerCase();
  return name === 'localhost' || name === '::1' || /^127(?:\.\d{1,3}){3}$/.test(name);
}

/** The repository of a function: `<prefix>/<name>` (function names are valid path components). */
export function repositoryFor(location: RegistryLocation, functionName: string): string {
  return location.prefix ? `${location.prefix}/${functionName}` : functionName;
}

/** "host:port/repo@sha256:…", the way docker and skopeo name an image by digest. */
export function imageReference(location: RegistryLocation, repository: string, digest: string): string {
  return `${location.host}/${repository}@${digest}`;
}

/** Splits "host:port/repo@sha256:…" back into its parts; undefined if it is not one. */
export function parseImageReference(ref: string): { host: string; repository: string; digest: string } | undefined {
  const match = /^([^/]+)\/(.+)@(sha256:[a-f0-9]{64})$/.exec(ref);
  if (!match) return undefined;
  return { host: match[1]!, repository: match[2]!, digest: match[3]! };
}
