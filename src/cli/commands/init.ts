import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Option, type Command } from 'commander';
import type { ContextFactory } from '../context.ts';
import { printJson, UsageError } from '../output.ts';
import { templateFiles, TEMPLATES, type TemplateName } from '../templates.ts';

export function initCommand(program: Command, ctx: ContextFactory): void {
  program
    .command('init')
    .description('write a new function folder (code, hearth.json, types) that deploys as is')
    .argument('<name>', 'function name; also the folder created')
    .addOption(new Option('-t, --template <template>', 'starting point').choices(TEMPLATES).default('handler'))
    .option('--dir <dir>', 'where to create the folder (default: ./<name>)')
    .addHelpText('after', '\nExample: hearth init greeter --template lambda && hearth deploy ./greeter')
    .action(async (name: string, opts: { template: TemplateName; dir?: string }, cmd: Command) => {
      const { out } = ctx(cmd);
      // Loaded here: zod is not needed to start the CLI.
      const { functionName } = await import('../../config/function-config.ts');
      const parsed = functionName.safeParse(name);
      if (!parsed.success) throw new UsageError(`invalid function name ${JSON.stringify(name)}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
      const dir = path.resolve(opts.dir ?? name);
      // Never overwrite someone's work: only a missing or empty folder is written to.
      if (existsSync(dir) && (await readdir(dir)).length > 0) throw new UsageError(`${dir} exists and is not empty`);
      const files = templateFiles(name, opts.template);
      for (const [rel, text] of Object.entries(files)) {
        await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
        await writeFile(path.join(dir, rel), text);
      }
      if (out.json) return printJson(out, { name, template: opts.template, dir, files: Object.keys(files) });
      const rel = path.relative(process.cwd(), dir) || '.';
      out.stdout(`created ${rel} (${opts.template}): ${Object.keys(files).join(', ')}\n`);
      if (opts.template === 'hono') out.stdout(`  cd ${rel} && npm install   # hono is bundled into the function\n`);
      out.stdout(`  hearth deploy ${rel}\n  hearth dev ${rel}      # redeploy on every change and follow the logs\n`);
    });
}
