import type { Command } from 'commander';
import type { ContextFactory } from '../context.ts';
import { printJson, table } from '../output.ts';

/** Seconds since an ISO time, for "last heartbeat 3s ago". */
function secondsAgo(iso: string, now = Date.now()): string {
  return `${Math.max(0, Math.round((now - Date.parse(iso)) / 1000))}s`;
}

/** `hearth nodes`: the cluster's live nodes. */
export function nodesCommand(program: Command, ctx: ContextFactory): void {
  program
    .command('nodes')
    .description("the cluster's live nodes (a node drops out ~15 s after its last heartbeat)")
    .action(async (_opts: unknown, cmd: Command) => {
      const { client, out } = ctx(cmd);
      const nodes = await client.nodes();
      if (out.json) return printJson(out, nodes);
      if (nodes.length === 0) return out.stdout('no nodes\n');
      out.stdout(table(
        nodes.map((n) => [
          n.id,
          n.url,
          n.version,
          n.containers,
          `${n.memoryReservedMb}/${n.memoryBudgetMb ?? '-'} MB`,
          secondsAgo(n.lastHeartbeat),
          n.unavailable.length === 0 ? '' : n.unavailable.join(','),
        ]),
        ['NODE', 'URL', 'VERSION', 'CONTAINERS', 'MEMORY', 'HEARTBEAT', 'CANNOT RUN'],
      ));
    });
}
