import { parseArgs } from 'node:util';

/** Sizes of each measurement; the defaults are the issue's, smaller values make a quick check. */
export interface BenchFlags {
  out: string;
  warmCalls: number;
  throughputSeconds: number;
  steadySeconds: number;
  asyncInvocations: number;
  coldSamples: number;
  stemSamples: number;
  manyFunctions: number;
  deploySamples: number;
  runcSamples: number;
  /** Sections to run (all when empty): a quick check of one figure without the rest. */
  only: Set<BenchSection>;
}

export const SECTIONS = ['proxy', 'bullmq', 'fsync', 'runc', 'stem', 'memory', 'warm', 'async', 'cold', 'deploy', 'many'] as const;
export type BenchSection = (typeof SECTIONS)[number];

const numeric = {
  'warm-calls': 2000,
  'throughput-seconds': 5,
  'steady-seconds': 30,
  'async-invocations': 2000,
  'cold-samples': 15,
  'stem-samples': 15,
  'many-functions': 200,
  'deploy-samples': 10,
  'runc-samples': 20,
} as const;

export const USAGE = `usage: npm run bench -- [--out file.json] [--only ${SECTIONS.join(',')}] ${Object.entries(numeric).map(([k, v]) => `[--${k} ${v}]`).join(' ')}`;

export function parseFlags(argv: string[]): BenchFlags {
  const options = Object.fromEntries(Object.keys(numeric).map((k) => [k, { type: 'string' as const }]));
  const { values } = parseArgs({ args: argv, options: { ...options, out: { type: 'string', default: 'bench-results.json' }, only: { type: 'string' }, help: { type: 'boolean' } } });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const num = (key: keyof typeof numeric): number => {
    const raw = (values as Record<string, string | boolean | undefined>)[key];
    if (raw === undefined) return numeric[key];
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${key} must be a positive number, got ${raw}\n${USAGE}`);
    return n;
  };
  const only = new Set<BenchSection>();
  for (const part of typeof values.only === 'string' ? values.only.split(',').filter(Boolean) : []) {
    if (!(SECTIONS as readonly string[]).includes(part)) throw new Error(`--only: unknown section ${part}\n${USAGE}`);
    only.add(part as BenchSection);
  }
  return {
    only,
    out: String(values.out),
    warmCalls: num('warm-calls'),
    throughputSeconds: num('throughput-seconds'),
    steadySeconds: num('steady-seconds'),
    asyncInvocations: num('async-invocations'),
    coldSamples: num('cold-samples'),
    stemSamples: num('stem-samples'),
    manyFunctions: num('many-functions'),
    deploySamples: num('deploy-samples'),
    runcSamples: num('runc-samples'),
  };
}
