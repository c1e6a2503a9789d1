import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** Hearth's own version (package.json), as each node reports it: a mixed-version cluster shows. */
export function hearthVersion(): string {
  if (cached === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
      cached = typeof pkg.version === 'string' ? pkg.version : 'unknown';
    } catch {
      // A bundled copy without package.json beside it still runs; it just cannot say which version it is.
      cached = 'unknown';
    }
  }
  return cached;
}
