import type { Command } from 'commander';
import type { HearthClient, LogLine } from '../../sdk/index.ts';
import { positiveInt, readData } from '../args.ts';
import type { ContextFactory } from '../context.ts';
import { printJson, type Out } from '../output.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const FINAL = new Set(['succeeded', 'failed']);

/** invoke and logs. */
export function invokeCommands(program: Command, ctx: ContextFactory): void {
  program
    .command('invoke')
    .description('invoke a function and print its result')
    .argument('<name>', 'function name')
    .option('-d, --data <json|@file>', 'the event: JSON text, @file, or @- for stdin (default null)')
    .option('--async', 'queue the invocation and print its id (202) instead of waiting')
    .option('--version <n>', 'run this version instead of the current one', positiveInt)
    .addHelpText('after', `\nExamples:\n  hearth invoke hello --data '{"name":"Ada"}'\n  hearth invoke report --data @event.json --async`)
    .action(async (name: string, opts: { data?: string; async?: boolean; version?: number }, cmd: Command) => {
      const { client, out } = ctx(cmd);
      const event = readData(opts.data);
      const pin = opts.version === undefined ? {} : { version: opts.version };
      if (opts.async) {
        const { id } = await client.invokeAsync(name, event, pin);
        if (out.json) return printJson(out, { id });
        out.stdout(`${id}\n`);
        return;
      }
      const res = await client.invoke(name, event, pin);
      if (out.json) return printJson(out, res);
      out.stdout(JSON.stringify(res.result, null, 2) + '\n');
    });

  program
    .command('logs')
    .description("print an invocation's console output, or a function's recent output")
    .argument('<name|invocation-id>', 'function name or invocation id')
    .option('-f, --follow', 'keep printing new output (an invocation: until it finishes)')
    .option('--since <time>', "a function's output since this time (ISO or epoch ms)")
    .option('--limit <n>', 'at most this many lines', positiveInt)
    .action(async (target: string, opts: { follow?: boolean; since?: string; limit?: number }, cmd: Command) => {
      const { client, out } = ctx(cmd);
      if (UUID.test(target)) await invocationLogs(client, out, target, opts.follow === true);
      else await functionLogs(client, out, target, opts);
    });
}

function lineText(l: LogLine): string {
  const t = typeof l.time === 'number' ? new Date(l.time).toISOString() : l.time;
  return `${t} ${String(l.stream).padEnd(6)} ${l.line}\n`;
}

function emit(out: Out, lines: LogLine[]): void {
  for (const l of lines) out.stdout(out.json ? JSON.stringify(l) + '\n' : lineText(l));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function invocationLogs(client: HearthClient, out: Out, id: string, follow: boolean): Promise<void> {
  let shown = 0;
  for (;;) {
    const logs = await client.invocationLogs(id);
    if (!follow && out.json) return printJson(out, logs);
    emit(out, logs.slice(shown));
    shown = logs.length;
    if (!follow) return;
    const inv = await client.invocation(id);
    if (FINAL.has(inv.status)) {
      emit(out, (await client.invocationLogs(id)).slice(shown));
      return;
    }
    await sleep(1000);
  }
}

export async function functionLogs(client: HearthClient, out: Out, name: string, opts: { follow?: boolean; since?: string; limit?: number }): Promise<void> {
  let since = opts.since;
  let seen = new Set<string>();
  for (;;) {
    const logs = await client.functionLogs(name, { ...(since ? { since } : {}), ...(opts.limit ? { limit: opts.limit } : {}) });
    if (!opts.follow && out.json) return printJson(out, logs);
    // Polling with `since` may repeat lines stamped at the boundary: skip the ones already printed.
    const fresh = logs.filter((l) => !seen.has(JSON.stringify(l)));
    emit(out, fresh);
    if (!opts.follow) return;
    const last = logs.at(-1);
    if (last) {
      since = typeof last.time === 'number' ? String(last.time) : last.time;
      seen = new Set(logs.filter((l) => l.time === last.time).map((l) => JSON.stringify(l)));
    }
    await sleep(1000);
  }
}
