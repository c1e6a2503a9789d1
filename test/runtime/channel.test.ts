/** NDJSON framing shared by host and agent, and the host's log caps: pure, no containers. */
import { PassThrough, Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { encodeMessage, LineSplitter, NdjsonChannel } from '../../src/runtime/channel.ts';
import { LogBuffer, RecentLines } from '../../src/runtime/logs.ts';
import { parseMountInfo } from '../../src/runtime/mountinfo.ts';

function split(chunks: (string | Buffer)[], maxLineBytes = 1024) {
  const lines: [string, boolean][] = [];
  const s = new LineSplitter({ maxLineBytes, onLine: (b, t) => lines.push([b.toString('utf8'), t]) });
  for (const c of chunks) s.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return { lines, s };
}

describe('LineSplitter', () => {
  it('splits lines across and within chunks', () => {
    expect(split(['a\nb', 'c\n\nd', 'e\n']).lines).toEqual([['a', false], ['bc', false], ['', false], ['de', false]]);
  });

  it('keeps a trailing partial line until flush', () => {
    const { lines, s } = split(['x\ny']);
    expect(lines).toEqual([['x', false]]);
    expect(s.pending).toBe(1);
    s.flush();
    expect(lines).toEqual([['x', false], ['y', false]]);
  });

  it('decodes a multi-byte character split across chunks', () => {
    const bytes = Buffer.from('✓\n');
    expect(split([bytes.subarray(0, 1), bytes.subarray(1, 2), bytes.subarray(2)]).lines).toEqual([['✓', false]]);
  });

  it('bounds memory on an over-long line: keeps the head, flags it, and recovers at the next newline', () => {
    const { lines, s } = split(['0123456789', 'abcdef', 'ghij\nok\n'], 8);
    expect(lines).toEqual([['01234567', true], ['ok', false]]);
    expect(s.pending).toBe(0);
  });
});

describe('NdjsonChannel', () => {
  /** Two channels joined back to back, like the two ends of the fd-3 socketpair. */
  function pair() {
    const aToB = new PassThrough();
    const bToA = new PassThrough();
    const a = Duplex.from({ readable: bToA, writable: aToB });
    const b = Duplex.from({ readable: aToB, writable: bToA });
    return { a, b };
  }

  it('delivers typed messages in order, including strings with newlines', async () => {
    const { a, b } = pair();
    const got: unknown[] = [];
    const errors: string[] = [];
    new NdjsonChannel<never, { type: string; v?: unknown }>(b, 1 << 20, { onMessage: (m) => got.push(m), onProtocolError: (e) => errors.push(e), onClose: () => {} });
    const sender = new NdjsonChannel<{ type: string; v?: unknown }, never>(a, 1 << 20, { onMessage: () => {}, onProtocolError: () => {}, onClose: () => {} });
    sender.send({ type: 'x', v: 'line1\nline2' });
    sender.sendFrame(encodeMessage({ type: 'y', v: [1, 2] }));
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual([{ type: 'x', v: 'line1\nline2' }, { type: 'y', v: [1, 2] }]);
    expect(errors).toEqual([]);
  });

  it('reports garbage and over-long messages as protocol errors, and close once', async () => {
    const input = new PassThrough();
    const stream = Duplex.from({ readable: input, writable: new PassThrough() });
    const errors: string[] = [];
    let closes = 0;
    new NdjsonChannel(stream, 16, { onMessage: () => {}, onProtocolError: (e) => errors.push(e), onClose: () => closes++ });
    input.write('not json\n[1]\n{"type":"ok"}\n' + '{"type":"' + 'x'.repeat(40) + '"}\n');
    input.end();
    await new Promise((r) => setTimeout(r, 10));
    expect(errors).toEqual(['message is not valid JSON', 'message has no type', 'message longer than 16 bytes']);
    expect(closes).toBe(1);
  });

  it('carries an attachment as raw bytes after its frame, whatever the chunks, and frames after it', async () => {
    const { a, b } = pair();
    const got: [unknown, string | undefined][] = [];
    const errors: string[] = [];
    new NdjsonChannel<never, { type: string }>(
      b,
      1 << 20,
      { onMessage: (m, bytes) => got.push([m, bytes?.toString('utf8')]), onProtocolError: (e) => errors.push(e), onClose: () => {} },
      { acceptAttachments: true },
    );
    const sender = new NdjsonChannel<{ type: string; n?: number }, never>(a, 1 << 20, { onMessage: () => {}, onProtocolError: () => {}, onClose: () => {} });
    // Newlines and quotes in the bytes are bytes, not frame ends.
    const code = 'module.exports = () => "✓";\n'.repeat(5000);
    sender.sendWithAttachment({ type: 'files', n: 1 }, Buffer.from(code));
    sender.sendWithAttachment({ type: 'empty' }, Buffer.alloc(0));
    sender.send({ type: 'after' });
    await new Promise((r) => setTimeout(r, 20));
    expect(got).toEqual([[{ type: 'files', n: 1 }, code], [{ type: 'empty' }, ''], [{ type: 'after' }, undefined]]);
    expect(errors).toEqual([]);
  });

  it('splits an attachment fed a byte at a time, then reads the next line from the same chunk', () => {
    const lines: string[] = [];
    const raws: string[] = [];
    const s = new LineSplitter({
      maxLineBytes: 64,
      onLine: (line) => {
        lines.push(line.toString());
        if (line.toString() === 'head') s.takeRaw(5, (bytes) => raws.push(bytes.toString()));
      },
    });
    for (const byte of Buffer.from('head\na\nb\nc')) s.push(Buffer.from([byte]));
    s.push(Buffer.from('tail\n'));
    expect(raws).toEqual(['a\nb\nc']);
    expect(lines).toEqual(['head', 'tail']);
  });

  it('refuses an attachment size that is not a whole number within the message limit', async () => {
    const input = new PassThrough();
    const stream = Duplex.from({ readable: input, writable: new PassThrough() });
    const errors: string[] = [];
    const got: unknown[] = [];
    new NdjsonChannel(stream, 1024, { onMessage: (m) => got.push(m), onProtocolError: (e) => errors.push(e), onClose: () => {} }, { acceptAttachments: true });
    input.write('{"type":"a","attachedBytes":-1}\n{"type":"b","attachedBytes":1.5}\n{"type":"c","attachedBytes":2048}\n');
    await new Promise((r) => setTimeout(r, 10));
    expect(got).toEqual([]);
    expect(errors).toEqual(Array(3).fill('attachedBytes must be an integer from 0 to 1024'));
  });

  it('the host\'s side takes no attachment (function code can write to the agent\'s end): a protocol error', async () => {
    const input = new PassThrough();
    const stream = Duplex.from({ readable: input, writable: new PassThrough() });
    const errors: string[] = [];
    const got: unknown[] = [];
    new NdjsonChannel(stream, 1024, { onMessage: (m) => got.push(m), onProtocolError: (e) => errors.push(e), onClose: () => {} });
    input.write('{"type":"log","attachedBytes":3}\nabc');
    await new Promise((r) => setTimeout(r, 10));
    expect(got).toEqual([]);
    expect(errors[0]).toBe('message has an attachment, which this side does not take');
  });

  it('send returns false once the stream is gone', () => {
    const stream = Duplex.from({ readable: new PassThrough(), writable: new PassThrough() });
    const ch = new NdjsonChannel(stream, 16, { onMessage: () => {}, onProtocolError: () => {}, onClose: () => {} });
    ch.close();
    expect(ch.send({ type: 'x' })).toBe(false);
  });
});

describe('LogBuffer', () => {
  it('keeps lines up to the line cap, then adds one truncation marker', () => {
    const b = new LogBuffer(1 << 20, 3);
    for (let i = 0; i < 10; i++) b.add('stdout', `l${i}`, 1);
    const lines = b.finish();
    expect(lines.slice(0, 3).map((l) => l.line)).toEqual(['l0', 'l1', 'l2']);
    expect(lines).toHaveLength(4);
    expect(lines[3]).toMatchObject({ stream: 'stderr' });
    expect(lines[3].line).toMatch(/truncated: 7 more line/);
  });

  it('enforces the byte cap and stops at the first line that does not fit', () => {
    const b = new LogBuffer(10, 100);
    b.add('stdout', '12345');
    b.add('stdout', '1234567');
    b.add('stdout', '1');
    expect(b.finish().map((l) => l.line)).toEqual(['12345', expect.stringMatching(/truncated: 2 more/)]);
  });

  it('RecentLines keeps the last n lines, each shortened', () => {
    const r = new RecentLines(2, 3);
    for (const l of ['a', 'b', 'cdefg']) r.add(l);
    expect(r.text()).toBe('b\ncde…');
  });
});

describe('parseMountInfo', () => {
  it('reads mount points (unescaped), fstype and super options, with optional fields present', () => {
    const text = [
      '36 35 98:0 / /mnt/with\\040space rw,noatime master:1 - ext3 /dev/root rw,errors=continue',
      '40 30 0:35 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory',
      '',
    ].join('\n');
    expect(parseMountInfo(text)).toEqual([
      { mountpoint: '/mnt/with space', fstype: 'ext3', source: '/dev/root', superOptions: ['rw', 'errors=continue'] },
      { mountpoint: '/sys/fs/cgroup/memory', fstype: 'cgroup', source: 'cgroup', superOptions: ['rw', 'memory'] },
    ]);
  });
});
