import type { Command } from 'commander';
import { positiveInt } from '../args.ts';
import type { ContextFactory } from '../context.ts';
import { bytes, printJson, shortDigest, table } from '../output.ts';

/** ls, rm, versions, rollback. */
export function functionCommands(program: Command, ctx: ContextFactory): void {
  program
    .command('ls')
    .alias('list')
    .description('list deployed functions')
    .action(async (_opts: unknown, cmd: Command) => {
      const { client, out } = ctx(cmd);
      const functions = await client.list();
      if (out.json) return printJson(out, functions);
      if (functions.length === 0) return out.stdout('no functions deployed\n');
      out.stdout(table(
        functions.map((f) => [f.name, `v${f.version}`, shortDigest(f.digest), `${f.config.memoryMb} MB`, bytes(f.bundleBytes), f.updatedAt]),
        ['NAME', 'VERSION', 'DIGEST', 'MEMORY', 'BUNDLE', 'UPDATED'],
      ));
    });

  program
    .command('rm')
    .alias('remove')
    .description('remove a function with its versions, queue and containers')
    .argument('<name>', 'function name')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const { client, out } = ctx(cmd);
      await client.remove(name);
      if (out.json) return printJson(out, { removed: name });
      out.stdout(`removed ${name}\n`);
    });

  program
    .command('versions')
    .description("list a function's versions (the current one is marked *)")
    .argument('<name>', 'function name')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const { client, out } = ctx(cmd);
      const [versions, current] = await Promise.all([client.versions(name), client.get(name)]);
      if (out.json) return printJson(out, { current: current.version, versions });
      out.stdout(table(
        versions.map((v) => [v.version === current.version ? '*' : '', `v${v.version}`, shortDigest(v.digest), bytes(v.bundleBytes), v.createdAt]),
        ['', 'VERSION', 'DIGEST', 'BUNDLE', 'CREATED'],
      ));
    });

  program
    .command('rollback')
    .description('make an earlier version current')
    .argument('<name>', 'function name')
    .argument('<version>', 'version number', positiveInt)
    .action(async (name: string, version: number, _opts: unknown, cmd: Command) => {
      const { client, out } = ctx(cmd);
      const res = await client.rollback(name, version);
      if (out.json) return printJson(out, res);
      out.stdout(`${name} now runs v${res.version ?? version}\n`);
    });
}
