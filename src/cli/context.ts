import type { Command } from 'commander';
import { HearthClient } from '../sdk/index.ts';
import type { Out } from './output.ts';

export interface GlobalOptions {
  url?: string;
  apiKey?: string;
  json?: boolean;
}

/** What every command gets: the client for the selected server and where to print. */
export interface CommandContext {
  client: HearthClient;
  out: Out;
}

export type ContextFactory = (cmd: Command) => CommandContext;

/** Builds a command's context from the global flags (which win over HEARTH_URL / HEARTH_API_KEY). */
export function contextFactory(io: Omit<Out, 'json'>, env: NodeJS.ProcessEnv): ContextFactory {
  return (cmd) => {
    const opts = cmd.optsWithGlobals<GlobalOptions>();
    const url = opts.url ?? env.HEARTH_URL ?? 'http://127.0.0.1:8080';
    const apiKey = opts.apiKey ?? (env.HEARTH_API_KEY || undefined);
    return { client: new HearthClient({ url, ...(apiKey ? { apiKey } : {}) }), out: { ...io, json: opts.json === true } };
  };
}
