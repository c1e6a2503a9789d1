import { watch } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { ContextFactory } from '../context.ts';
import type { Out } from '../output.ts';
import { deployFolder } from './deploy.ts';
import { functionLogs } from './invoke.ts';

/** Changes here are not the function's source: they would redeploy for nothing (or forever). */
const IGNORED = /(^|\/)(node_modules|\.git|\.hearth|dist)(\/|$)/;
/** Editors write a file in several steps: one redeploy per burst of changes. */
const SETTLE_MS = 150;

export function devCommand(program: Command, ctx: ContextFactory): void {
  program
    .command('dev')
    .description('deploy a function folder, redeploy it on every change, and follow its logs (Ctrl-C stops)')
    .argument('<dir>', 'function folder (hearth.json / index.ts …)')
    .option('-n, --name <name>', 'function name (default: hearth.json "name", else the folder name)')
    .action(async (dir: string, opts: { name?: string }, cmd: Command) => {
      const { client, out } = ctx(cmd);
      const text: Out = { ...out, json: false };
      const first = await deployFolder(client, text, dir, opts.name);
      // Only what happens from now on: older output belongs to earlier sessions.
      void functionLogs(client, text, first.name, { follow: true, since: new Date().toISOString() }).catch((err: Error) =>
        out.stderr(`hearth dev: following logs stopped: ${err.message}\n`),
      );
      let timer: NodeJS.Timeout | undefined;
      let running: Promise<void> = Promise.resolve();
      const redeploy = () => {
        running = running.then(async () => {
          try {
            await deployFolder(client, text, dir, opts.name);
          } catch (err) {
            // A syntax error mid-edit is normal: say so and keep watching.
            out.stderr(`hearth dev: deploy failed: ${(err as Error).message}\n`);
          }
        });
      };
      const watcher = watch(path.resolve(dir), { recursive: true }, (_event, file) => {
        if (file && IGNORED.test(String(file))) return;
        clearTimeout(timer);
        timer = setTimeout(redeploy, SETTLE_MS);
      });
      out.stderr(`hearth dev: watching ${dir} (Ctrl-C to stop)\n`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          watcher.close();
          clearTimeout(timer);
          resolve();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await running;
      // The log poller would keep the process alive; the session is over.
      process.exit(0);
    });
}
