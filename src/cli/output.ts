import { HearthApiError } from '../sdk/index.ts';

/** Exit codes: 0 ok, 1 the function or request failed, 2 usage error. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** A usage error found after parsing (bad --data JSON, say): exit code 2. */
export class UsageError extends Error {}

/** Where a command writes; tests and the JSON mode swap it. */
export interface Out {
  json: boolean;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** stderr is a terminal: progress may be drawn. */
  tty: boolean;
}

export function printJson(out: Out, value: unknown): void {
  out.stdout(JSON.stringify(value, null, 2) + '\n');
}

/** A plain aligned table; empty cells for undefined. */
export function table(rows: (string | number | undefined | null)[][], header: string[]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (c === undefined || c === null ? '' : String(c))))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : (c ?? '').padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function shortDigest(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

/**
 * Shows an error the way a user wants it: the server's code and message, no stack trace.
 * Returns the exit code.
 */
export function reportError(out: Out, err: unknown): number {
  if (err instanceof UsageError) {
    out.stderr(`error: ${err.message}\n`);
    return EXIT.usage;
  }
  if (err instanceof HearthApiError) {
    if (out.json) printJson(out, { error: { code: err.code, message: err.message, ...(err.invocationId ? { invocationId: err.invocationId } : {}) } });
    out.stderr(`error ${err.code}: ${err.message}\n`);
    if (err.invocationId) out.stderr(`invocation ${err.invocationId} (hearth logs ${err.invocationId})\n`);
    return EXIT.failed;
  }
  const message = err instanceof Error ? err.message : String(err);
  if (out.json) printJson(out, { error: { code: 'client_error', message } });
  out.stderr(`error: ${message}\n`);
  return EXIT.failed;
}
