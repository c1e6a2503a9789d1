/**
 * Short-lived helper processes (runc kill/delete/list, mount, umount). Always `spawn` with a
 * timeout, never `exec`: a runc that leaves a pipe open would hang an exec callback forever, and
 * we only wait for 'exit', not for the pipes to close. The runtime runs its frequent ones through
 * the process spawner (a `CommandRunner`), which does the same there, off Hearth's event loop.
 */
import { spawn } from 'node:child_process';

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly result: CommandResult,
  ) {
    const why = result.signal ? `signal ${result.signal}` : `code ${result.code}`;
    super(`${command} failed (${why}): ${result.stderr.trim() || result.stdout.trim()}`);
    this.name = 'CommandError';
  }
}

/** Runs a command to completion (runCommand's contract): how a module is told where to run it. */
export type CommandRunner = (file: string, args: string[], timeoutMs?: number) => Promise<CommandResult>;

const MAX_OUTPUT = 1024 * 1024;

/** Runs a command to completion; kills it (SIGKILL) after timeoutMs. Never rejects on exit code. */
export function runCommand(file: string, args: string[], timeoutMs = 10_000): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv() });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let errLen = 0;
    child.stdout.on('data', (c: Buffer) => {
      if (outLen < MAX_OUTPUT) out.push(c);
      outLen += c.length;
    });
    child.stderr.on('data', (c: Buffer) => {
      if (errLen < MAX_OUTPUT) err.push(c);
      errLen += c.length;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    let settled = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.stdout.destroy();
      child.stderr.destroy();
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    };
    // 'close' normally follows 'exit' once the pipes drain. If a grandchild keeps a pipe open
    // (runc's known failure mode), give up on the rest of the output shortly after the exit.
    child.once('close', (code, signal) => finish(code, signal));
    child.once('exit', (code, signal) => {
      setTimeout(() => finish(code, signal), 500);
    });
  });
}

/** Like runCommand (or `run`) but rejects with CommandError unless the exit code is 0. */
export async function runChecked(file: string, args: string[], timeoutMs?: number, run: CommandRunner = runCommand): Promise<CommandResult> {
  const result = await run(file, args, timeoutMs);
  if (result.code !== 0) throw new CommandError(`${file} ${args.join(' ')}`, result);
  return result;
}

/**
 * The environment for runc and friends. LISTEN_FDS/LISTEN_PID would make `runc run` pass extra
 * fds into the container (on top of --preserve-fds); NOTIFY_SOCKET would make it proxy sd_notify.
 */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.LISTEN_FDS;
  delete env.LISTEN_PID;
  delete env.LISTEN_FDNAMES;
  delete env.NOTIFY_SOCKET;
  return env;
}
