/**
 * Newline-delimited JSON framing, shared by the host and the in-container agent (so it must stay
 * dependency-free: the agent bundle inlines it). JSON.stringify escapes newlines inside strings, so
 * a raw '\n' can only ever be a frame boundary.
 *
 * A frame may carry an attachment: its JSON has `attachedBytes: n` and exactly n raw bytes follow
 * its newline. Large text (a function's bundle sent to a stem cell) costs ~50 MB/s as a JSON
 * string (escaping, then parsing) and a copy as bytes.
 */
import type { Duplex } from 'node:stream';

const NEWLINE = 0x0a;

export interface LineSplitterOptions {
  /** Bytes kept per line; the rest of an over-long line is dropped and the line is flagged. */
  maxLineBytes: number;
  onLine: (line: Buffer, truncated: boolean) => void;
}

interface RawWanted {
  bytes: number;
  parts: Buffer[];
  size: number;
  done: (bytes: Buffer) => void;
}

/**
 * Splits a byte stream into lines without concatenating strings per chunk: a line is assembled
 * once, when its newline arrives, and a line inside a single chunk is a zero-copy view.
 * Decoding happens per whole line, so multi-byte UTF-8 split across chunks is safe.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private truncated = false;
  private raw: RawWanted | undefined;

  constructor(private readonly opts: LineSplitterOptions) {}

  /** Called from onLine: the `bytes` bytes after that line are not lines; `done` gets them whole. */
  takeRaw(bytes: number, done: (bytes: Buffer) => void): void {
    if (bytes === 0) return done(Buffer.alloc(0));
    this.raw = { bytes, parts: [], size: 0, done };
  }

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      if (this.raw) {
        start = this.pushRaw(chunk, start, this.raw);
        continue;
      }
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl === -1) {
        this.keep(chunk.subarray(start));
        return;
      }
      this.keep(chunk.subarray(start, nl));
      this.emit();
      start = nl + 1;
    }
  }

  private pushRaw(chunk: Buffer, start: number, raw: RawWanted): number {
    const end = Math.min(chunk.length, start + raw.bytes - raw.size);
    raw.parts.push(chunk.subarray(start, end));
    raw.size += end - start;
    if (raw.size === raw.bytes) {
      this.raw = undefined;
      raw.done(raw.parts.length === 1 ? raw.parts[0]! : Buffer.concat(raw.parts, raw.size));
    }
    return end;
  }

  /** Emits a trailing partial line (stream ended without a newline). */
  flush(): void {
    if (this.size > 0 || this.truncated) this.emit();
  }

  /** Bytes currently held for an unfinished line (bounded by maxLineBytes). */
  get pending(): number {
    return this.size;
  }

  private keep(part: Buffer): void {
    if (part.length === 0) return;
    const room = this.opts.maxLineBytes - this.size;
    if (part.length > room) {
      this.truncated = true;
      if (room <= 0) return;
      part = part.subarray(0, room);
    }
    this.parts.push(part);
    this.size += part.length;
  }

  private emit(): void {
    const line = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.size);
    const truncated = this.truncated;
    this.parts = [];
    this.size = 0;
    this.truncated = false;
    this.opts.onLine(line, truncated);
  }
}

/** One frame: the message as JSON plus the delimiter. */
export function encodeMessage(message: unknown): string {
  return JSON.stringify(message) + '\n';
}

export interface ChannelHandlers<In> {
  /** `attachment`: the raw bytes the frame carried (see sendWithAttachment). */
  onMessage: (message: In, attachment?: Buffer) => void;
  /** A line that is not JSON, not an object with a string `type`, or longer than the limit. */
  onProtocolError: (reason: string) => void;
  onClose: () => void;
}

/**
 * A typed NDJSON channel over a duplex stream (the fd-3 socketpair on both ends).
 * `Out` is what this side sends, `In` what it receives.
 */
export class NdjsonChannel<Out, In> {
  private closed = false;
  private corked = false;
  private readonly splitter: LineSplitter;

  /**
   * `acceptAttachments`: only the agent's side takes them (from the host). The host's side must
   * not: the function's own code shares the agent's process and can write to its end.
   */
  constructor(
    private readonly stream: Duplex,
    maxMessageBytes: number,
    handlers: ChannelHandlers<In>,
    opts: { acceptAttachments?: boolean } = {},
  ) {
    this.splitter = new LineSplitter({
      maxLineBytes: maxMessageBytes,
      onLine: (line, truncated) => {
        if (truncated) {
          handlers.onProtocolError(`message longer than ${maxMessageBytes} bytes`);
          return;
        }
        if (line.length === 0) return;
        let parsed: unknown;
        try {
          parsed = JSON.parse(line.toString('utf8'));
        } catch {
          handlers.onProtocolError('message is not valid JSON');
          return;
        }
        if (typeof parsed !== 'object' || parsed === null || typeof (parsed as { type?: unknown }).type !== 'string') {
          handlers.onProtocolError('message has no type');
          return;
        }
        const attached = (parsed as { attachedBytes?: unknown }).attachedBytes;
        if (attached === undefined) return handlers.onMessage(parsed as In);
        if (!opts.acceptAttachments) {
          handlers.onProtocolError('message has an attachment, which this side does not take');
          return;
        }
        if (!Number.isSafeInteger(attached) || (attached as number) < 0 || (attached as number) > maxMessageBytes) {
          handlers.onProtocolError(`attachedBytes must be an integer from 0 to ${maxMessageBytes}`);
          return;
        }
        delete (parsed as { attachedBytes?: unknown }).attachedBytes;
        this.splitter.takeRaw(attached as number, (bytes) => handlers.onMessage(parsed as In, bytes));
      },
    });
    stream.on('data', (chunk: Buffer) => this.splitter.push(chunk));
    const close = (): void => {
      if (this.closed) return;
      this.closed = true;
      handlers.onClose();
    };
    stream.on('end', close);
    stream.on('close', close);
    // A peer that died mid-write surfaces as EPIPE/ECONNRESET; 'close' follows and reports it.
    stream.on('error', () => {});
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Returns false if the channel is closed (the message is dropped). Throws if it is not JSON-able. */
  send(message: Out): boolean {
    return this.sendFrame(encodeMessage(message));
  }

  /** The message, then `attachment`'s bytes as they are; the peer's onMessage gets both. */
  sendWithAttachment(message: Out, attachment: Buffer): boolean {
    if (!this.sendFrame(encodeMessage({ ...message, attachedBytes: attachment.length }))) return false;
    this.stream.write(attachment);
    return true;
  }

  /** A frame the caller already encoded (e.g. to check its size first); must end with '\n'. */
  sendFrame(frame: string): boolean {
    if (this.closed || this.stream.destroyed) return false;
    // Frames sent while the loop handles one round of I/O leave in one write: setImmediate runs
    // right after that round, so a lone frame waits microseconds, and under load the peer is
    // woken once per round instead of once per frame.
    if (!this.corked) {
      this.corked = true;
      this.stream.cork();
      setImmediate(this.uncork);
    }
    this.stream.write(frame);
    return true;
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.stream.uncork();
  };

  /** Sends the frame, then closes our side once it is flushed. */
  endWith(frame: string, done: () => void): void {
    if (this.closed || this.stream.destroyed) return done();
    this.stream.end(frame, done);
  }

  close(): void {
    this.stream.destroy();
  }
}
