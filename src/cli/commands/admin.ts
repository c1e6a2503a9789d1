import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { readData } from '../args.ts';
import type { ContextFactory } from '../context.ts';
import { UsageError, printJson, table } from '../output.ts';

/** schedules, secrets, pool. */
export function adminCommands(program: Command, ctx: ContextFactory): void {
  const schedules = program.command('schedules').description("manage a function's cron schedules");
  schedules
    .command('ls', { isDefault: true })
    .description("list a function's schedules")
    .argument('<name>', 'function name')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const { client, out } = ctx(cmd);
      const list = await client.schedules(name);
      if (out.json) return printJson(out, list);
      if (list.length === 0) return out.stdout(`no schedules for ${name}\n`);
      out.stdout(table(list.map((s) => [s.id, s.cron, s.tz ?? 'UTC', s.event === undefined ? '' : JSON.stringify(s.event)]), ['ID', 'CRON', 'TZ', 'EVENT']));
    });
  schedules
    .command('set')
    .description('create or replace a schedule')
    .argument('<name>', 'function name')
    .argument('<id>', 'schedule id')
    .requiredOption('--cron <expr>', 'cron expression, e.g. "*/5 * * * *"')
    .option('--tz <zone>', 'time zone, e.g. Europe/Paris')
    .option('-d, --data <json|@file>', 'the event each run gets')
    .action(async (name: string, id: string, opts: { cron: string; tz?: string; data?: string }, cmd: Command) => {
      const { client, out } = ctx(cmd);
      const res = await client.setSchedule(name, id, { cron: opts.cron, ...(opts.tz ? { tz: opts.tz } : {}), ...(opts.data !== undefined ? { event: readData(opts.data) } : {}) });
      if (out.json) return printJson(out, res);
      out.stdout(`schedule ${id} of ${name}: ${opts.cron}${opts.tz ? ` (${opts.tz})` : ''}\n`);
    });
  schedules
    .command('rm')
    .description('remove a schedule')
    .argument('<name>', 'function name')
    .argument('<id>', 'schedule id')
    .action(async (name: string, id: string, _opts: unknown, cmd: Command) => {
      const { client, out } = ctx(cmd);
      await client.removeSchedule(name, id);
      if (out.json) return printJson(out, { removed: id, function: name });
      out.stdout(`removed schedule ${id} of ${name}\n`);
    });

  const secrets = program.command('secrets').description('manage secrets (values are write-only)');
  secrets
    .command('set')
    .description('create or replace a secret')
    .argument('<name>', 'secret name')
    .argument('[value]', 'the value (prefer --from-file or stdin: arguments end up in shell history)')
    .option('--from-file <path>', 'read the value from a file')
    .action(async (name: string, value: string | undefined, opts: { fromFile?: string }, cmd: Command) => {
      const { client, out } = ctx(cmd);
      let secret = value;
      if (opts.fromFile) secret = readFileSync(opts.fromFile, 'utf8');
      else if (secret === undefined && !process.stdin.isTTY) secret = readFileSync(0, 'utf8').replace(/\r?\n$/, '');
      if (secret === undefined) throw new UsageError('give the value as an argument, with --from-file, or on stdin');
      await client.setSecret(name, secret);
      if (out.json) return printJson(out, { set: name });
      out.stdout(`secret ${name} set\n`);
    });
  secrets
    .command('rm')
    .description('remove a secret')
    .argument('<name>', 'secret name')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const { client, out } = ctx(cmd);
      await client.removeSecret(name);
      if (out.json) return printJson(out, { removed: name });
      out.stdout(`secret ${name} removed\n`);
    });
  secrets
    .command('ls')
    .description('list secret names')
    .action(async (_opts: unknown, cmd: Command) => {
      const { client, out } = ctx(cmd);
      const list = await client.secrets();
      if (out.json) return printJson(out, list);
      out.stdout(list.length === 0 ? 'no secrets\n' : list.map((s) => `${s.name}\n`).join(''));
    });

  program
    .command('pool')
    .description('warm containers per function and their state, on every node')
    .action(async (_opts: unknown, cmd: Command) => {
      const { client, out } = ctx(cmd);
      const containers = await client.pool();
      if (out.json) return printJson(out, containers);
      if (containers.length === 0) return out.stdout('no warm containers\n');
      out.stdout(table(
        containers.map((c) => [c.function, `v${c.version}`, c.state + (c.retiring ? ' (retiring)' : ''), c.inFlight, c.invocations, `${Math.round(c.ageMs / 1000)}s`, c.node ?? '', c.id]),
        ['FUNCTION', 'VERSION', 'STATE', 'IN-FLIGHT', 'SERVED', 'AGE', 'NODE', 'ID'],
      ));
    });
}
