/**
 * `tsx bench/profile-summary.ts FILE.cpuprofile [--from ms] [--to ms] [--top 40] [--callers NAME [--depth 4]]`:
 * reads a profile `profile-warm.ts` wrote and prints where the CPU went, so a measurement and its
 * explanation come from the same run. Without --from/--to it first prints the busy time per
 * 250 ms, to find the window of the load (start-up, deploys and warm-up are in the profile too);
 * with them it keeps only the samples in that window. Then: self time by function, inclusive time
 * by function of the project (src/ or dist/), and with --callers the call paths into every
 * function whose name or location contains NAME (e.g. writev, putMany).
 *
 * Time a thread spends descheduled inside a syscall counts as that syscall's (a write that wakes
 * the reader on a busy 2-core machine looks expensive); `profile-warm.ts`' CPU per call is the
 * figure to compare builds by.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { from: { type: 'string' }, to: { type: 'string' }, top: { type: 'string', default: '40' }, callers: { type: 'string' }, depth: { type: 'string', default: '4' } },
});
const file = positionals[0];
if (!file) {
  console.error('usage: tsx bench/profile-summary.ts FILE.cpuprofile [--from ms] [--to ms] [--top 40] [--callers NAME] [--depth 4]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parentOf = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
const top = Number(values.top);

const label = (n: ProfileNode): string => {
  const { functionName, url, lineNumber } = n.callFrame;
  const where = url.replace(/.*node_modules\//, '').replace(/^file:\/\/.*?\/(src|dist|bench)\//, '$1/');
  return `${functionName || '(anonymous)'} ${where}${lineNumber >= 0 ? `:${lineNumber + 1}` : ''}`;
};
const isIdle = (n: ProfileNode) => n.callFrame.functionName === '(idle)';
const ms = (us: number) => (us / 1000).toFixed(0).padStart(6);

// Each sample's time (µs since the profile began) and how long it stands for.
let clock = 0;
const samples = profile.samples.map((id, i) => ({ id, at: (clock += profile.timeDeltas[i] ?? 0), us: profile.timeDeltas[i] ?? 0 }));

if (values.from === undefined || values.to === undefined) {
  console.log('busy ms per 250 ms (pick --from/--to around the load):');
  const buckets = new Map<number, number>();
  for (const s of samples) {
    if (isIdle(byId.get(s.id)!)) continue;
    const bucket = Math.floor(s.at / 250_000) * 250;
    buckets.set(bucket, (buckets.get(bucket) ?? 0) + s.us);
  }
  console.log([...buckets].map(([at, us]) => `${at}:${(us / 1000).toFixed(0)}`).join(' '));
}
const from = Number(values.from ?? 0) * 1000;
const to = values.to === undefined ? Infinity : Number(values.to) * 1000;
const window = samples.filter((s) => s.at >= from && s.at <= to);

const self = new Map<string, number>();
const inclusive = new Map<string, number>();
let busy = 0;
for (const s of window) {
  const node = byId.get(s.id)!;
  if (isIdle(node)) continue;
  busy += s.us;
  self.set(label(node), (self.get(label(node)) ?? 0) + s.us);
  // Each function once per stack, however often it recurses.
  const seen = new Set<string>();
  for (let id: number | undefined = s.id; id !== undefined; id = parentOf.get(id)) {
    const n = byId.get(id)!;
    const key = label(n);
    if (!/(^|\s)(src|dist)\//.test(key) || seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + s.us);
  }
}
const rows = (m: Map<string, number>) =>
  [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, us]) => `${ms(us)} ${((100 * us) / busy).toFixed(1).padStart(5)}%  ${k}`).join('\n');
console.log(`\nbusy ${ms(busy)} ms in the window\n--- self time`);
console.log(rows(self));
console.log('--- inclusive time, project code');
console.log(rows(inclusive));

if (values.callers) {
  const wanted = values.callers;
  const depth = Number(values.depth);
  const paths = new Map<string, number>();
  for (const s of window) {
    // The outermost frame on the stack that matches, and the `depth` frames that called it.
    let match: number | undefined;
    for (let id: number | undefined = s.id; id !== undefined; id = parentOf.get(id)) if (label(byId.get(id)!).includes(wanted)) match = id;
    if (match === undefined) continue;
    const path: string[] = [];
    for (let id = parentOf.get(match), i = 0; id !== undefined && i < depth; id = parentOf.get(id), i++) path.push(label(byId.get(id)!));
    const key = `${label(byId.get(match)!)}  <  ${path.join('  <  ')}`;
    paths.set(key, (paths.get(key) ?? 0) + s.us);
  }
  console.log(`--- call paths into "${wanted}"`);
  console.log(rows(paths));
}
