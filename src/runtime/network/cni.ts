/**
 * A minimal CNI runtime (the part of libcni Hearth needs): runs a network configuration list's
 * plugins with CNI_COMMAND=ADD in order, each getting the previous result, and DEL in reverse.
 * Plugins are the binaries of Debian's containernetworking-plugins (/usr/lib/cni).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const CNI_VERSION = '1.0.0';
/** Debian installs the plugins here; upstream tarballs go to /opt/cni/bin. */
export const CNI_PATHS = ['/usr/lib/cni', '/opt/cni/bin'];

export interface PluginConf {
  type: string;
  [key: string]: unknown;
}

export interface NetworkConfList {
  cniVersion: string;
  name: string;
  plugins: PluginConf[];
}

export interface CniInterface {
  name: string;
  mac?: string;
  sandbox?: string;
}

export interface CniResult {
  cniVersion: string;
  interfaces?: CniInterface[];
  ips?: Array<{ address: string; gateway?: string; interface?: number }>;
  routes?: Array<{ dst: string; gw?: string }>;
}

export interface CniArgs {
  containerId: string;
  netns: string;
  ifName: string;
}

export class CniError extends Error {
  constructor(
    readonly plugin: string,
    readonly command: string,
    message: string,
  ) {
    super(`CNI ${plugin} ${command}: ${message}`);
    this.name = 'CniError';
  }
}

export function findCniPath(candidates = CNI_PATHS): string | undefined {
  return candidates.find((dir) => existsSync(join(dir, 'bridge')));
}

/** Runs one plugin binary: config on stdin, parameters in CNI_* env vars, result JSON on stdout. */
export function execPlugin(cniPath: string, command: 'ADD' | 'DEL' | 'CHECK', conf: object & { type: string }, args: CniArgs, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(cniPath, conf.type), [], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
        CNI_COMMAND: command,
        CNI_CONTAINERID: args.containerId,
        CNI_NETNS: args.netns,
        CNI_IFNAME: args.ifName,
        CNI_PATH: cniPath,
      },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new CniError(conf.type, command, e.message));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      if (code === 0) return resolve(stdout);
      // Plugins report errors as {code, msg, details} on stdout.
      let message = Buffer.concat(err).toString('utf8').trim() || stdout.trim() || `exit ${signal ?? code}`;
      try {
        const e = JSON.parse(stdout) as { msg?: string; details?: string };
        if (e.msg) message = e.details ? `${e.msg}: ${e.details}` : e.msg;
      } catch {
        // Not JSON: keep the raw text.
      }
      reject(new CniError(conf.type, command, message));
    });
    child.stdin.on('error', () => {});
    child.stdin.end(JSON.stringify(conf));
  });
}

function pluginConf(list: NetworkConfList, plugin: PluginConf, prevResult?: CniResult): PluginConf {
  return { ...plugin, cniVersion: list.cniVersion, name: list.name, ...(prevResult ? { prevResult } : {}) };
}

/** ADD through the whole list; if a later plugin fails, the earlier ones are undone (DEL). */
export async function addNetworkList(cniPath: string, list: NetworkConfList, args: CniArgs): Promise<CniResult> {
  let result: CniResult | undefined;
  const done: PluginConf[] = [];
  try {
    for (const plugin of list.plugins) {
      result = JSON.parse(await execPlugin(cniPath, 'ADD', pluginConf(list, plugin, result), args)) as CniResult;
      done.push(plugin);
    }
  } catch (e) {
    for (const plugin of done.reverse()) await execPlugin(cniPath, 'DEL', pluginConf(list, plugin, result), args).catch(() => {});
    throw e;
  }
  return result ?? { cniVersion: list.cniVersion };
}

/** DEL in reverse order; every plugin runs even if one fails; DEL of what is already gone succeeds. */
export async function delNetworkList(cniPath: string, list: NetworkConfList, args: CniArgs, prevResult?: CniResult): Promise<void> {
  const errors: string[] = [];
  for (const plugin of [...list.plugins].reverse()) {
    await execPlugin(cniPath, 'DEL', pluginConf(list, plugin, prevResult), args).catch((e: Error) => errors.push(e.message));
  }
  if (errors.length) throw new Error(errors.join('; '));
}
