import { openSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bufferedStdout } from '../../src/log/buffered-stdout.ts';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

const turn = () => new Promise((r) => setImmediate(r));

describe('bufferedStdout', () => {
  it('writes every line once, in order, across turns and batches', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hearth-log-'));
    const file = path.join(dir, 'out.log');
    const fd = openSync(file, 'w');
    const out = bufferedStdout({ fd, minLength: 256, flushEveryMs: 5 });
    const sent: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const line = `{"n":${i},"pad":"${'x'.repeat(i % 97)}"}\n`;
      sent.push(line);
      out.stream.write(line);
      // Some lines share a turn, some do not: both paths to sonic-boom are taken.
      if (i % 7 === 0) await turn();
      if (i % 500 === 0) await new Promise((r) => setTimeout(r, 10));
    }
    const expected = sent.join('');
    // The periodic flush writes the rest (bounded wait).
    for (let waited = 0; statSync(file).size < Buffer.byteLength(expected) && waited < 2000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    out.close();
    expect(readFileSync(file, 'utf8')).toBe(expected);
  });

  it('flushSync writes every line still pending, even while an asynchronous write is in flight', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hearth-log-'));
    const file = path.join(dir, 'out.log');
    const fd = openSync(file, 'w');
    const out = bufferedStdout({ fd, minLength: 64, flushEveryMs: 1000 });
    const sent: string[] = [];
    for (let i = 0; i < 300; i++) {
      sent.push(`{"n":${i}}\n`);
      out.stream.write(sent[i]!);
      if (i % 50 === 0) await turn();
    }
    out.flushSync();
    // sonic-boom's own in-flight write may land after flushSync's (its ordering, not ours): all
    // lines are there once each, which is what the exit path needs.
    for (let waited = 0; statSync(file).size < Buffer.byteLength(sent.join('')) && waited < 2000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    out.close();
    expect(readFileSync(file, 'utf8').split('\n').filter(Boolean).sort()).toEqual(sent.map((l) => l.trim()).sort());
  });

  it('a line written in the last turn before flushSync is not left behind', () => {
    const tmp = path.join(os.tmpdir(), `hearth-log-last-${process.pid}.log`);
    const fd = openSync(tmp, 'w');
    const out = bufferedStdout({ fd });
    out.stream.write('{"last":true}\n');
    out.flushSync();
    const text = readFileSync(tmp, 'utf8');
    out.close();
    void rm(tmp, { force: true });
    expect(text).toBe('{"last":true}\n');
  });
});
