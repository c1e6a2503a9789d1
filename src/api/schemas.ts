import { z } from 'zod';
import { functionConfigSchema, functionName } from '../config/index.ts';
import { errorStatus } from '../errors/index.ts';

/*
 * The HTTP API's request and response shapes, shared by the gateway (which validates requests
 * with them), the SDK (whose types are inferred from them) and the OpenAPI document (generated
 * from them). Change a shape here and all three follow.
 */

// ---- requests -------------------------------------------------------------------------------

/** One file of a deploy: UTF-8 text as a string, any other bytes as `{ "base64": "…" }`. */
export const deployFileSchema = z.union([
  z.string(),
  z.object({ base64: z.string().describe('The file\'s bytes, standard base64 with padding.') }).strict(),
]);

/** `POST /v1/functions`: either a file tree (`files` + optional `entry`) or a single `source`. */
export const deployBodySchema = z
  .object({
    name: functionName,
    files: z
      .record(z.string().min(1), deployFileSchema)
      .optional()
      .describe(
        'Relative path → content. Code is bundled from the entry; every other file (templates, JSON, HTML, .wasm, fonts) ' +
          'ships in the function layer at the same path beside the bundle, read at run time through __dirname or ' +
          'new URL("./x", import.meta.url). Text files as strings, binary files as {"base64": "…"}. Which files ship follows ' +
          'config.files (globs) and a .hearthignore among the files; config.external packages are taken from node_modules/ ' +
          'in the map. Files beside the code above HEARTH_MAX_ASSET_BYTES (50 MiB by default) together are refused with 413.',
      ),
    entry: z.string().min(1).optional(),
    source: z.string().optional(),
    config: z.unknown().optional(),
  })
  .strict()
  .refine((b) => (b.files === undefined) !== (b.source === undefined), {
    message: 'give exactly one of "files" or "source"',
  })
  .refine((b) => b.files === undefined || Object.keys(b.files).length > 0, { message: '"files" is empty', path: ['files'] });

export type DeployBody = z.infer<typeof deployBodySchema>;

export const invokeQuerySchema = z
  .object({ version: z.coerce.number().int().min(1).optional() })
  .strict();

/** `POST /v1/functions/:name/rollback`: make an earlier deployed version the current one. */
export const rollbackBodySchema = z.object({ version: z.number().int().min(1) }).strict();

/** `POST /v1/functions/:name/invocations` query; the body is the event. */
export const asyncInvokeQuerySchema = z
  .object({
    version: z.coerce.number().int().min(1).optional(),
    callbackUrl: z.url({ protocol: /^https?$/ }).optional(),
  })
  .strict();

/** `PUT /v1/functions/:name/schedules/:id`. */
export const scheduleBodySchema = z
  .object({ cron: z.string().min(1), tz: z.string().min(1).optional(), event: z.unknown().optional() })
  .strict();

/** `PUT /v1/secrets/:name`: the value is write-only; no response ever carries it back. */
export const secretBodySchema = z.object({ value: z.string() }).strict();

/** `GET /v1/functions/:name/logs`: `since` is epoch ms or an ISO date. */
export const logsQuerySchema = z
  .object({ since: z.string().optional(), limit: z.coerce.number().int().min(1).max(10_000).default(1000) })
  .strict();

// ---- responses ------------------------------------------------------------------------------

export const errorResponseSchema = z.object({
  error: z.object({
    code: z.enum(Object.keys(errorStatus) as [keyof typeof errorStatus, ...(keyof typeof errorStatus)[]]),
    message: z.string(),
  }),
});
export type ErrorResponse = z.infer<typeof errorResponseSchema>;

export const healthResponseSchema = z.object({ status: z.literal('ok') });
export const readyResponseSchema = z.object({ status: z.literal('ready') });

/** One immutable deployed version. */
export const functionVersionSchema = z.object({
  name: z.string(),
  version: z.number().int(),
  digest: z.string(),
  config: functionConfigSchema,
  bundleBytes: z.number().int(),
  /** Where the image was pushed ("host:port/repo@sha256:…"), when a registry is configured. */
  image: z.string().optional(),
  createdAt: z.string(),
});
export type FunctionVersionInfo = z.infer<typeof functionVersionSchema>;

/** `GET /v1/functions/:name`: the current version plus bookkeeping. */
export const functionRecordSchema = functionVersionSchema.extend({
  versions: z.number().int(),
  updatedAt: z.string(),
});
export type FunctionInfo = z.infer<typeof functionRecordSchema>;

/** Bytes on disk of the image store, all functions together. */
export const diskUsageSchema = z.object({
  totalBytes: z.number().int(),
  blobBytes: z.number().int(),
  layerBytes: z.number().int(),
  blobs: z.number().int(),
  layers: z.number().int(),
});

/** `GET /v1/functions/:name`: the record plus what its image costs on disk. */
export const functionDescriptionSchema = functionRecordSchema.extend({
  storage: z.object({ imageBytes: z.number().int().nullable(), store: diskUsageSchema }),
});
export type FunctionDescriptionInfo = z.infer<typeof functionDescriptionSchema>;

export const deployResponseSchema = functionRecordSchema.extend({
  layers: z.array(z.object({ digest: z.string(), size: z.number().int() })),
  buildMs: z.number(),
  /** Uncompressed bytes of the files shipped beside the bundle (assets, `external` packages). */
  assetBytes: z.number().int().optional(),
  /** Same source and config as the current version (same image digest): no version was added. */
  unchanged: z.boolean().optional(),
});
export type DeployResponse = z.infer<typeof deployResponseSchema>;

export const functionListSchema = z.object({ functions: z.array(functionRecordSchema) });

/** `GET /v1/functions/:name/versions`: loose, so fields a newer server adds reach an older client instead of failing it. */
export const versionListSchema = z.object({ versions: z.array(functionVersionSchema.loose()) }).loose();

export const poolEntrySchema = z.object({
  id: z.string(),
  function: z.string(),
  version: z.number().int(),
  state: z.enum(['starting', 'idle', 'busy']),
  retiring: z.boolean(),
  /** Started as a generic stem cell and specialized for this function. */
  fromStemCell: z.boolean(),
  inFlight: z.number().int(),
  invocations: z.number().int(),
  ageMs: z.number(),
  idleSince: z.string().nullable(),
  /** The function's configured limit. */
  memoryMb: z.number(),
  /** In use now, from the container's memory cgroup. */
  memoryBytes: z.number().int(),
  /** The node holding the container (HEARTH_NODE_NAME). */
  node: z.string().optional(),
});
export type PoolEntryInfo = z.infer<typeof poolEntrySchema>;

export const stemCellSchema = z.object({
  id: z.string(),
  state: z.enum(['ready', 'starting']),
  ageMs: z.number(),
  memoryBytes: z.number().int(),
  node: z.string().optional(),
});

const poolLimitsSchema = z.object({
  maxContainers: z.number().int().nullable(),
  memoryBudgetMb: z.number().nullable(),
  containers: z.number().int(),
  memoryReservedMb: z.number(),
  waiting: z.number().int(),
});

/** `GET /v1/pool`: the containers of every live node; `limits` are the answering node's, `nodes` everyone's. */
export const poolResponseSchema = z.object({
  containers: z.array(poolEntrySchema),
  stemCells: z.array(stemCellSchema),
  limits: poolLimitsSchema,
  nodes: z.array(z.object({ node: z.string(), limits: poolLimitsSchema })).optional(),
});

/** One node of the cluster as its last heartbeat described it. */
export const nodeSchema = z.object({
  id: z.string(),
  url: z.string(),
  version: z.string(),
  startedAt: z.string(),
  lastHeartbeat: z.string(),
  containers: z.number().int(),
  memoryReservedMb: z.number(),
  memoryBudgetMb: z.number().nullable(),
  /** Functions whose image this node cannot get: it takes none of their work. */
  unavailable: z.array(z.string()),
});
export type NodeInfo = z.infer<typeof nodeSchema>;

/** `GET /v1/nodes`: live nodes, by id. A node drops out ~15 s after its last heartbeat. */
export const nodeListSchema = z.object({ nodes: z.array(nodeSchema) });

export const asyncAcceptedSchema = z.object({ id: z.string() }).loose();

/** `GET /v1/invocations/:id`: the stored record of one invocation (status, result or error, timings). */
export const invocationRecordSchema = z
  .object({
    id: z.string(),
    function: z.string(),
    version: z.number().int().nullable().optional(),
    status: z.enum(['queued', 'running', 'succeeded', 'failed']),
    result: z.unknown().optional(),
    error: z.object({ code: z.string(), message: z.string() }).loose().optional(),
    attempts: z.number().int().optional(),
    queuedAt: z.string().nullable().optional(),
    startedAt: z.string().nullable().optional(),
    finishedAt: z.string().nullable().optional(),
    durationMs: z.number().nullable().optional(),
    coldStart: z.boolean().nullable().optional(),
  })
  .loose();
export type InvocationRecord = z.infer<typeof invocationRecordSchema>;

/** One captured line of console output. `time` may be epoch ms or an ISO string. */
export const logEntrySchema = z
  .object({
    time: z.union([z.number(), z.string()]),
    stream: z.enum(['stdout', 'stderr']).or(z.string()),
    line: z.string(),
    invocationId: z.string().optional(),
  })
  .loose();
export type LogLine = z.infer<typeof logEntrySchema>;
export const logsResponseSchema = z.object({ logs: z.array(logEntrySchema) }).loose();

export const scheduleSchema = z
  .object({ id: z.string(), cron: z.string(), tz: z.string().optional(), event: z.unknown().optional() })
  .loose();
export type ScheduleInfo = z.infer<typeof scheduleSchema>;
export const scheduleListSchema = z.object({ schedules: z.array(scheduleSchema) }).loose();

export const secretInfoSchema = z.object({ name: z.string() }).loose();
export const secretListSchema = z.object({ secrets: z.array(secretInfoSchema) }).loose();

/** `GET /v1/functions/:name/dead-letters`: invocations that failed their last attempt. */
export const deadLetterListSchema = z.object({ deadLetters: z.array(invocationRecordSchema) }).loose();

/** `POST /v1/gc`: what garbage collection removed and kept. Loose: the image store's report is passed through as it is. */
export const gcResponseSchema = z.object({}).loose();
