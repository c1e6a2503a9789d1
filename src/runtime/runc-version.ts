/**
 * Which known container-escape fixes a runc version has. runc is the component between untrusted
 * code and the host, so Hearth says at start when it is older than the fixes.
 */

export interface RuncAdvisory {
  ids: string[];
  summary: string;
  /** First fixed release on each maintained line: [major, minor, patch]. */
  fixedIn: Array<[number, number, number]>;
}

/** runc's own security advisories (CHANGELOG.md / GHSA), newest first. */
export const RUNC_ADVISORIES: RuncAdvisory[] = [
  {
    ids: ['CVE-2025-31133', 'CVE-2025-52565', 'CVE-2025-52881'],
    summary: 'masked-path and /dev/console bind mounts and redirected /proc writes let a container escape',
    fixedIn: [
      [1, 2, 8],
      [1, 3, 3],
      [1, 4, 0],
    ],
  },
  {
    ids: ['CVE-2024-21626'],
    summary: 'a leaked host fd ("Leaky Vessels") lets a container reach the host filesystem',
    fixedIn: [[1, 1, 12]],
  },
];

type Version = [number, number, number];

export function parseRuncVersion(version: string): Version | null {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

function cmp(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** Fixed if the version is at least the fix on its own minor line, or newer than every fixed line. */
function isFixed(v: Version, a: RuncAdvisory): boolean {
  const sameLine = a.fixedIn.find((f) => f[0] === v[0] && f[1] === v[1]);
  if (sameLine) return cmp(v, sameLine) >= 0;
  const oldest = a.fixedIn.reduce((x, y) => (cmp(x, y) <= 0 ? x : y));
  const newest = a.fixedIn.reduce((x, y) => (cmp(x, y) >= 0 ? x : y));
  if (cmp(v, oldest) < 0) return false;
  return cmp(v, newest) > 0 || a.fixedIn.some((f) => f[0] === v[0] && f[1] < v[1]);
}

/**
 * Warnings for `runc --version` output such as "1.1.5+ds1". Distribution builds ("+ds", "~")
 * may carry backported fixes the version number does not show; the warning says so.
 */
export function runcVersionWarnings(version: string): string[] {
  const v = parseRuncVersion(version);
  if (!v) return [`cannot parse runc version ${JSON.stringify(version)}: cannot tell whether it has the container-escape fixes`];
  const distro = /[+~]/.test(version) ? ' (a distribution build may have backported some fixes)' : '';
  return RUNC_ADVISORIES.filter((a) => !isFixed(v, a)).map(
    (a) =>
      `runc ${version} predates the fix for ${a.ids.join(', ')}: ${a.summary}${distro}. ` +
      `Point HEARTH_OCI_RUNTIME at a runc >= ${a.fixedIn.map((f) => f.join('.')).join(' / ')}.`,
  );
}
