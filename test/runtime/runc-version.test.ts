import { describe, expect, it } from 'vitest';
import { parseRuncVersion, runcVersionWarnings } from '../../src/runtime/index.ts';

describe('runc version check', () => {
  it('parses runc --version numbers, distribution suffixes included', () => {
    expect(parseRuncVersion('1.1.5+ds1')).toEqual([1, 1, 5]);
    expect(parseRuncVersion('1.4.0-rc.3')).toEqual([1, 4, 0]);
    expect(parseRuncVersion('weird')).toBeNull();
  });

  it("warns about Debian 12's 1.1.5 (predates the 2025 fixes; the 2024 one may be backported)", () => {
    const w = runcVersionWarnings('1.1.5+ds1');
    expect(w.join('\n')).toMatch(/CVE-2025-31133/);
    expect(w.join('\n')).toMatch(/CVE-2024-21626/);
    expect(w.join('\n')).toMatch(/backported/);
    expect(w.join('\n')).toMatch(/HEARTH_OCI_RUNTIME/);
  });

  it('is quiet for fixed releases on every maintained line, and warns just below them', () => {
    for (const v of ['1.2.8', '1.3.3', '1.4.0', '1.4.2', '1.5.0', '2.0.0']) expect({ v, w: runcVersionWarnings(v) }).toEqual({ v, w: [] });
    for (const v of ['1.2.7', '1.3.2', '1.1.15', '1.0.0']) expect(runcVersionWarnings(v).join()).toMatch(/CVE-2025-31133/);
    expect(runcVersionWarnings('1.1.12').join()).not.toMatch(/CVE-2024-21626/);
    expect(runcVersionWarnings('1.1.11').join()).toMatch(/CVE-2024-21626/);
    expect(runcVersionWarnings('garbage')).toHaveLength(1);
  });
});
