/**
 * Why a container (or a stem cell being specialized) never became usable, told with what it
 * printed: the agent's init error, the container's last output and runc's own log lines.
 */
import { readFile } from 'node:fs/promises';

export type StartFailure = 'init_error' | 'exited' | 'timeout';

/** Why createContainer failed; `message` carries the agent's init error or the container's last output. */
export class ContainerStartError extends Error {
  constructor(
    readonly reason: StartFailure,
    message: string,
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'ContainerStartError';
  }
}

export interface InitError {
  message: string;
  stack?: string;
}

/** The function's module threw while loading; the detail keeps the stack and what it printed meanwhile. */
export function initFailure(e: InitError, output: string): ContainerStartError {
  const detail = [e.stack ?? e.message, output && `output while loading:\n${output}`].filter(Boolean).join('\n');
  return new ContainerStartError('init_error', `function failed to initialize: ${e.message}`, detail);
}

/**
 * The container exited before its agent reported ready. runc prints its error both to stderr
 * (already in `output`) and to its log file: a log line is added only if it is new.
 */
export async function exitedBeforeReady(id: string, how: string, output: string, runcLogFile: string): Promise<ContainerStartError> {
  const fromLog = (await runcErrors(runcLogFile)).filter((l) => !output.includes(l.replace(/^runc: /, '').trim()));
  const detail = [output, ...fromLog].filter(Boolean).join('\n');
  return new ContainerStartError('exited', `container ${id} exited before it was ready (${how})${detail ? `: ${lastLines(detail, 8)}` : ''}`, detail);
}

/** runc's own error lines from its --log file (why it could not start the container). */
async function runcErrors(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    try {
      const entry = JSON.parse(line) as { level?: string; msg?: string };
      if ((entry.level === 'error' || entry.level === 'fatal') && entry.msg) out.push(`runc: ${entry.msg}`);
    } catch {
      // Not JSON: skip.
    }
  }
  return out;
}

function lastLines(text: string, n: number): string {
  return text.split('\n').slice(-n).join('\n');
}
