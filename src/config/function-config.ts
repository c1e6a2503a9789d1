import { z } from 'zod';

/** Function names reach file paths, runc ids, queue names and Redis keys: keep them boring. */
export const functionName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be 1-63 chars of a-z, 0-9 and "-", starting with a letter');

/**
 * A schedule id becomes part of BullMQ job scheduler ids and of every tick's job id, and comes
 * from the config and from the schedules API path alike: one rule for both.
 */
export const SCHEDULE_ID = /^[a-zA-Z0-9_-]{1,64}$/;

const schedule = z
  .object({
    id: z.string().regex(SCHEDULE_ID),
    cron: z.string().min(1),
    tz: z.string().optional(),
    event: z.unknown().optional(),
  })
  .strict();

/** A function's memory limit when its config names none. */
export const DEFAULT_MEMORY_MB = 128;

/**
 * Function configuration (`hearth.json` or `config` in a deploy body).
 * Unknown keys are an error: a typo must not silently fall back to a default.
 */
export const functionConfigSchema = z
  .object({
    name: functionName.optional(),
    entry: z.string().min(1).optional(),
    memoryMb: z.number().int().min(64).max(8192).default(DEFAULT_MEMORY_MB),
    timeoutMs: z.number().int().min(1).max(15 * 60_000).default(30_000),
    concurrency: z.number().int().min(1).max(1000).default(1),
    minWarm: z.number().int().min(0).max(100).default(0),
    maxContainers: z.number().int().min(1).max(1000).default(10),
    idleTimeoutMs: z.number().int().min(100).default(60_000),
    /** Invocations waiting in the function's queue beyond this are refused with 429 `overloaded`. */
    maxQueued: z.number().int().min(1).max(1_000_000).default(1000),
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).default({}),
    schedules: z.array(schedule).default([]),
    network: z.enum(['none', 'bridge']).default('none'),
    /** Nameservers for a "bridge" function (default: the host's resolvers); glibc reads three at most. */
    dns: z.array(z.union([z.ipv4(), z.ipv6()])).min(1).max(3).optional(),
    /** "key": the /fn/ HTTP trigger needs the API key too (default: public). */
    auth: z.enum(['none', 'key']).optional(),
    /** Names of secrets (`PUT /v1/secrets/:name`) mounted as files under /run/secrets. */
    secrets: z.array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'must be a secret name')).optional(),
    /**
     * Globs of the files shipped beside the bundle (default: every file of the folder that is not
     * code, node_modules, a dot-file or a lock file); a `.hearthignore` then excludes.
     */
    files: z.array(z.string().min(1)).max(100).optional(),
    /** Packages esbuild must not bundle (native addons, dynamic requires): copied into the layer with their dependencies. */
    external: z.array(z.string().min(1)).max(100).optional(),
    retries: z
      .object({ attempts: z.number().int().min(0).max(100), backoffMs: z.number().int().min(0) })
      .strict()
      .default({ attempts: 0, backoffMs: 1000 }),
  })
  .strict();

export type FunctionConfigInput = z.input<typeof functionConfigSchema>;
export type FunctionConfig = z.output<typeof functionConfigSchema>;

/** Parses a config, applying the documented defaults. Throws a ZodError on bad input. */
export function parseFunctionConfig(input: unknown): FunctionConfig {
  return functionConfigSchema.parse(input ?? {});
}
