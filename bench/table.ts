/**
 * The table: each figure with its floor, the ratio, the target and whether it is met.
 * A figure that could not be measured (NaN / null) is a MISS.
 */
export type Target =
  | { kind: 'ratio ≤'; limit: number }
  | { kind: 'ratio ≥'; limit: number }
  | { kind: 'value ≤'; limit: number }
  /** A figure reported for its ratio alone (e.g. what a setting costs): never a MISS. */
  | { kind: 'reported' };

export interface Row {
  figure: string;
  unit: string;
  hearth: number | null;
  floor: number | null;
  /** What the floor column is, e.g. "proxy floor". */
  floorName: string;
  target: Target;
}

export interface JudgedRow extends Row {
  ratio: number | null;
  pass: boolean;
}

const known = (n: number | null): n is number => n !== null && Number.isFinite(n);

export function judge(row: Row): JudgedRow {
  const ratio = known(row.hearth) && known(row.floor) && row.floor !== 0 ? row.hearth / row.floor : null;
  const target = row.target;
  let pass = false;
  if (target.kind === 'reported') pass = true;
  else if (target.kind === 'value ≤') pass = known(row.hearth) && row.hearth <= target.limit;
  else if (ratio !== null) pass = target.kind === 'ratio ≤' ? ratio <= target.limit : ratio >= target.limit;
  return { ...row, ratio, pass };
}

export function describeTarget(row: Row): string {
  if (row.target.kind === 'reported') return 'reported';
  const { kind, limit } = row.target;
  return kind === 'value ≤' ? `≤ ${limit} ${row.unit}` : `${kind.slice(-1)} ${limit} × ${row.floorName}`;
}

// Below 1 (a warm call's ms), three decimals: with one, 0.24 and 0.16 ms both read 0.2.
const num = (n: number | null, digits = 1): string => (known(n) ? (Math.abs(n) >= 1000 ? n.toFixed(0) : Math.abs(n) < 1 && n !== 0 ? n.toFixed(3) : n.toFixed(digits)) : '—');

export function formatTable(rows: JudgedRow[]): string {
  const header = ['figure', 'hearth', 'floor', 'ratio', 'target', ''];
  const lines = rows.map((r) => [r.figure, `${num(r.hearth)} ${r.unit}`, known(r.floor) ? `${num(r.floor)} ${r.unit}` : '—', num(r.ratio, 2), describeTarget(r), r.pass ? 'PASS' : 'MISS']);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const pad = (cells: string[]) => cells.map((c, i) => (i === 1 || i === 2 || i === 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [pad(header), widths.map((w) => '─'.repeat(w)).join('  '), ...lines.map(pad)].join('\n');
}
