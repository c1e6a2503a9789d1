/**
 * A container's raw stdout and stderr, line by line: child processes of the function, node's
 * fatal errors, tini and runc write there (the agent's own log lines come over its channel).
 */
import { LineSplitter } from './channel.ts';
import { MAX_LOG_LINE_BYTES } from './protocol.ts';
import type { RuncProcess } from './runc.ts';

type OutputStream = RuncProcess['stdout'];

/** Calls `onLine` per line (over-long lines cut and marked), including a last line without a newline. */
export function readOutputLines(stream: OutputStream, onLine: (line: string) => void): void {
  const splitter = new LineSplitter({
    maxLineBytes: MAX_LOG_LINE_BYTES,
    onLine: (buf, truncated) => onLine(buf.toString('utf8') + (truncated ? ' [truncated]' : '')),
  });
  stream.on('data', (c: Buffer) => splitter.push(c));
  stream.on('end', () => splitter.flush());
  // The container dying mid-write is reported by its exit, not here.
  stream.on('error', () => {});
}

/** Resolves when both output streams have ended or closed: nothing more will be read from them. */
export function outputEnded(proc: RuncProcess): Promise<void> {
  const ended = (s: NodeJS.ReadableStream & { readableEnded?: boolean; destroyed?: boolean }) =>
    s.readableEnded || s.destroyed ? Promise.resolve() : new Promise<void>((r) => s.once('close', r).once('end', r));
  return Promise.all([ended(proc.stdout), ended(proc.stderr)]).then(() => undefined);
}
