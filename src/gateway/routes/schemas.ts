import { z } from 'zod';
import { functionName } from '../../config/index.ts';

/** `POST /v1/functions`: either a file tree (`files` + optional `entry`) or a single `source`. */
export const deployBodySchema = z
  .object({
    name: functionName,
    files: z.record(z.string().min(1), z.string()).optional(),
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
