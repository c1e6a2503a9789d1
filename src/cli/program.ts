import { Command, CommanderError, Option } from 'commander';
import { contextFactory } from './context.ts';
import { EXIT, reportError, type Out } from './output.ts';
import { deployCommand } from './commands/deploy.ts';
import { functionCommands } from './commands/functions.ts';
import { invokeCommands } from './commands/invoke.ts';
import { adminCommands } from './commands/admin.ts';
import { upCommand } from './commands/up.ts';
import { nodesCommand } from './commands/nodes.ts';
import { initCommand } from './commands/init.ts';
import { devCommand } from './commands/dev.ts';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  tty: boolean;
  env: NodeJS.ProcessEnv;
}

/** The `hearth` command tree (commander). Usage errors throw CommanderError thanks to exitOverride. */
export function buildProgram(io: CliIo): Command {
  const program = new Command('hearth')
    .description('Deploy and invoke functions on a Hearth server')
    .version('0.1.0', '-V, --cli-version', 'print the CLI version')
    .addOption(new Option('--url <url>', 'server URL').env('HEARTH_URL').default(undefined, 'http://127.0.0.1:8080'))
    .addOption(new Option('--api-key <key>', 'API key (Bearer)').env('HEARTH_API_KEY'))
    .option('--json', 'machine-readable JSON output')
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  const ctx = contextFactory(io, io.env);
  upCommand(program);
  initCommand(program, ctx);
  deployCommand(program, ctx);
  devCommand(program, ctx);
  invokeCommands(program, ctx);
  functionCommands(program, ctx);
  adminCommands(program, ctx);
  nodesCommand(program, ctx);
  return program;
}

/** Runs the CLI and returns the exit code: 0 ok, 1 the function or request failed, 2 usage error. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  if (argv.length === 0) {
    program.outputHelp();
    return EXIT.usage;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.ok;
      return EXIT.usage;
    }
    const json = program.opts<{ json?: boolean }>().json === true || argv.includes('--json');
    const out: Out = { json, stdout: io.stdout, stderr: io.stderr, tty: io.tty };
    return reportError(out, err);
  }
}
