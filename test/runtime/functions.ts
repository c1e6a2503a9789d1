/** Handwritten ESM test functions (the contents of /function/index.mjs). */

/** One module with many behaviours, picked by event.action, so most tests share one warm container. */
export const PROBE = String.raw`
import { readFileSync, writeFileSync } from 'node:fs';
import { networkInterfaces, hostname } from 'node:os';
import { spawnSync } from 'node:child_process';
import { getHeapStatistics } from 'node:v8';

let count = 0;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function tryWrite(path) {
  try { writeFileSync(path, 'x'); return 'ok'; } catch (e) { return e.code; }
}

export default async function probe(event, ctx) {
  count++;
  switch (event?.action) {
    case 'count': return { count, pid: process.pid };
    case 'ctx': return { ctx: { ...ctx, remaining: ctx.getRemainingTimeMs() }, env: { A: process.env.A, NODE_ENV: process.env.NODE_ENV, HOME: process.env.HOME, HEARTH_FUNCTION: process.env.HEARTH_FUNCTION, HEARTH_VERSION: process.env.HEARTH_VERSION } };
    case 'echo': return event.value;
    case 'undefined': return undefined;
    case 'bigint': return 1n;
    case 'throw': throw new TypeError(event.message);
    case 'throwValue': throw event.value;
    case 'reject': return Promise.reject(new Error('rejected: ' + event.message));
    case 'sandbox': {
      const status = readFileSync('/proc/self/status', 'utf8');
      const field = (name) => new RegExp('^' + name + ':\\s*(.*)$', 'm').exec(status)?.[1];
      return {
        pid1: readFileSync('/proc/1/cmdline', 'utf8').split('\0').filter(Boolean),
        heapLimitMb: Math.round(getHeapStatistics().heap_size_limit / 1048576),
        hostname: hostname(),
        interfaces: Object.keys(networkInterfaces()),
        writeFunction: tryWrite('/function/x'),
        writeEtc: tryWrite('/etc/x'),
        writeTmp: tryWrite('/tmp/x'),
        capEff: field('CapEff'), capPrm: field('CapPrm'), capBnd: field('CapBnd'),
        noNewPrivs: field('NoNewPrivs'),
        uid: process.getuid(), gid: process.getgid(),
        interrupts: readFileSync('/proc/interrupts', 'utf8').length,
      };
    }
    case 'log': {
      for (let i = 0; i < event.lines; i++) {
        console.log(event.tag + '-' + i);
        await sleep(event.gapMs ?? 5);
      }
      process.stdout.write(event.tag + '-partial');
      console.error(event.tag + '-err');
      return event.tag;
    }
    case 'flood': {
      for (let i = 0; i < event.lines; i++) console.log('line ' + i + ' ' + 'x'.repeat(event.width ?? 10));
      return 'flooded';
    }
    case 'child': {
      // Output of a child process goes straight to the container's stdout (runc's pipe).
      spawnSync('/usr/bin/node', ['-e', 'console.log("from child")'], { stdio: 'inherit' });
      // That output races the result (different pipes): give runc a moment to copy it.
      await sleep(100);
      return 'spawned';
    }
    case 'spin': for (;;) {}
    case 'sleep': await sleep(event.ms); return 'slept';
    case 'alloc': {
      // Off-heap and touched, so the cgroup (not V8) is what runs out.
      const keep = [];
      for (;;) { const b = Buffer.alloc(8 << 20); b.fill(1); keep.push(b); }
    }
    case 'heap': {
      const keep = [];
      for (;;) keep.push(new Array(1 << 16).fill({ a: Math.random() }));
    }
    case 'exit': process.exit(event.code);
    default: return { count };
  }
}
`;

export const NAMED_HANDLER = `export const handler = async (event, ctx) => ({ named: true, event, fn: ctx.functionName, version: ctx.version });`;

export const THROWS_AT_IMPORT = `
console.log('loading…');
throw new Error('config missing: DATABASE_URL');
export default () => 1;
`;

export const NO_HANDLER = `export const notAHandler = 42;`;

export const FETCH_ONLY = `export default { fetch(request, env, ctx) { return new Response('hi'); } };`;

export const SLOW_IMPORT = `await new Promise((r) => setTimeout(r, 60_000)); export default () => 1;`;
