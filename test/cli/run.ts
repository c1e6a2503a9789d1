import { execFile } from 'node:child_process';
import path from 'node:path';

export const BIN = path.resolve('bin/hearth.mjs');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `hearth` binary (asynchronously: the server under test may share this process). */
export function hearthCli(args: string[], opts: { env?: Record<string, string>; cwd?: string; bin?: string; input?: string } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [opts.bin ?? BIN, ...args], {
      cwd: opts.cwd ?? process.cwd(),
      env: { ...process.env, HEARTH_URL: '', HEARTH_API_KEY: '', ...opts.env },
      timeout: 60_000,
    }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}
