/** Per-invocation log capture with a hard cap, so a function flooding stdout cannot grow host memory. */
import { MAX_LOG_BYTES, MAX_LOG_LINES } from './protocol.ts';
import type { LogLine } from './types.ts';

export class LogBuffer {
  readonly lines: LogLine[] = [];
  private bytes = 0;
  private dropped = 0;

  constructor(
    private readonly maxBytes = MAX_LOG_BYTES,
    private readonly maxLines = MAX_LOG_LINES,
  ) {}

  add(stream: LogLine['stream'], line: string, time = Date.now()): void {
    if (this.dropped > 0 || this.lines.length >= this.maxLines || this.bytes + line.length > this.maxBytes) {
      this.dropped++;
      return;
    }
    this.lines.push({ time, stream, line });
    this.bytes += line.length;
  }

  /** The captured lines, plus one marker line if anything was dropped. */
  finish(): LogLine[] {
    if (this.dropped > 0) {
      this.lines.push({
        time: Date.now(),
        stream: 'stderr',
        line: `[hearth] log output truncated: ${this.dropped} more line(s) dropped (limit ${this.maxLines} lines / ${this.maxBytes / 1024} KiB per invocation)`,
      });
      this.dropped = 0;
    }
    return this.lines;
  }
}

/** The last few lines a container printed outside any invocation: used to explain a failed start. */
export class RecentLines {
  private readonly lines: string[] = [];

  constructor(
    private readonly max = 40,
    private readonly maxLineLength = 2000,
  ) {}

  add(line: string): void {
    this.lines.push(line.length > this.maxLineLength ? line.slice(0, this.maxLineLength) + '…' : line);
    if (this.lines.length > this.max) this.lines.shift();
  }

  text(): string {
    return this.lines.join('\n');
  }
}
