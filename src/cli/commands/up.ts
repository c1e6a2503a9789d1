import type { Command } from 'commander';
import { positiveInt } from '../args.ts';

export function upCommand(program: Command): void {
  program
    .command('up')
    .description('run the Hearth server in the foreground (what npm start runs)')
    .option('--port <port>', 'listen port (HEARTH_PORT, default 8080)', positiveInt)
    .option('--host <host>', 'listen address (HEARTH_HOST, default 127.0.0.1)')
    .option('--data-dir <dir>', 'data directory (HEARTH_DATA_DIR, default ./.hearth)')
    .addHelpText('after', '\nEnvironment: REDIS_URL, HEARTH_API_KEY, HEARTH_LOG_LEVEL, HEARTH_REGISTRY, HEARTH_OCI_RUNTIME, HEARTH_SHUTDOWN_TIMEOUT_MS (see README).\nSIGTERM / SIGINT stop it within HEARTH_SHUTDOWN_TIMEOUT_MS (10 s) plus clean-up; a second signal forces it.')
    .action(async (opts: { port?: number; host?: string; dataDir?: string }) => {
      if (opts.port !== undefined) process.env.HEARTH_PORT = String(opts.port);
      if (opts.host !== undefined) process.env.HEARTH_HOST = opts.host;
      if (opts.dataDir !== undefined) process.env.HEARTH_DATA_DIR = opts.dataDir;
      // The server's own entry point: it reads the environment, logs JSON and handles signals.
      await import('../../main.ts');
      // Resolves only when the process exits: the server owns it from here.
      await new Promise(() => undefined);
    });
}
