import { readFile, readdir } from 'node:fs/promises';

/** The argv of a live process, or undefined when it is gone (or not ours to read). */
export async function processArgs(pid: number): Promise<string[] | undefined> {
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter((a) => a !== '');
  } catch {
    return undefined;
  }
}

/** True while `pid` exists and is not a zombie. */
export async function isAlive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Field 3 (after the parenthesised name, which may hold spaces) is the state.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/**
 * Whether an argv is a redis-server serving `socketPath`. Redis rewrites its process title to
 * `redis-server unixsocket:<path>` once running; before that the argv is the one ManagedRedis gave.
 */
export function servesSocket(args: readonly string[], socketPath: string): boolean {
  const line = args.join(' ');
  if (!/(^|\/)redis-server(\s|$)/.test(line)) return false;
  const i = args.indexOf('--unixsocket');
  if (i >= 0 && args[i + 1] === socketPath) return true;
  return line.split(/\s+/).includes(`unixsocket:${socketPath}`);
}

/**
 * Every redis-server on this host serving `socketPath`, found from the process table: a pidfile
 * can be stale or missing after a crash, the command line cannot.
 */
export async function redisServersFor(socketPath: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const args = await processArgs(pid);
    if (args && servesSocket(args, socketPath) && (await isAlive(pid))) found.push(pid);
  }
  return found;
}

/** Waits until `pid` is gone; false if it is still there after `timeoutMs`. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (await isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/** SIGTERM (Redis then flushes its AOF), SIGKILL after `graceMs`. */
export async function stopProcess(pid: number, graceMs = 5000): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  if (await waitForExit(pid, graceMs)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  await waitForExit(pid, 2000);
}
