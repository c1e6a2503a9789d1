import { describe, expect, it } from 'vitest';
import { DEFAULT_MEMORY_MB, DEFAULT_STEM_CELLS, defaultPoolMemoryMb, loadSettings } from '../../src/config/index.ts';

const GiB = 1024 ** 3;

describe('settings: retention, stop and pool budget', () => {
  it('defaults: sync records 300 s and 1,000 per function, others 24 h and 10,000; stop grace 10 s', () => {
    const s = loadSettings({}, '/tmp');
    expect(s).toMatchObject({ resultTtlS: 86_400, syncRecordTtlS: 300, recordsPerFunction: 10_000, syncRecordsPerFunction: 1_000, shutdownTimeoutMs: 10_000 });
  });

  it('reads the new names, still honours HEARTH_RESULT_TTL_S, and never keeps sync records longer than the others by default', () => {
    expect(loadSettings({ HEARTH_RESULT_TTL_S: '60' }, '/tmp')).toMatchObject({ resultTtlS: 60, syncRecordTtlS: 60 });
    expect(loadSettings({ HEARTH_RECORD_TTL_S: '7200', HEARTH_RESULT_TTL_S: '60', HEARTH_SYNC_RECORD_TTL_S: '30' }, '/tmp')).toMatchObject({ resultTtlS: 7200, syncRecordTtlS: 30 });
    expect(loadSettings({ HEARTH_RECORDS_PER_FUNCTION: '5', HEARTH_SYNC_RECORDS_PER_FUNCTION: '2', HEARTH_SHUTDOWN_TIMEOUT_MS: '0' }, '/tmp'))
      .toMatchObject({ recordsPerFunction: 5, syncRecordsPerFunction: 2, shutdownTimeoutMs: 0 });
    expect(() => loadSettings({ HEARTH_SYNC_RECORDS_PER_FUNCTION: '0' }, '/tmp')).toThrow(/HEARTH_SYNC_RECORDS_PER_FUNCTION/);
    expect(() => loadSettings({ HEARTH_SHUTDOWN_TIMEOUT_MS: 'soon' }, '/tmp')).toThrow(/HEARTH_SHUTDOWN_TIMEOUT_MS/);
  });

  it('the pool budget defaults to the memory there is, minus min(2 GiB, 10 %)', () => {
    expect(defaultPoolMemoryMb(24 * GiB)).toBe(22 * 1024);
    expect(defaultPoolMemoryMb(4 * GiB)).toBe(4096 - 410);
    expect(defaultPoolMemoryMb(0)).toBe(0);
    const s = loadSettings({}, '/tmp');
    expect(s.poolMemoryMb).toBeGreaterThan(0);
    expect(loadSettings({ HEARTH_POOL_MEMORY_MB: '512' }, '/tmp').poolMemoryMb).toBe(512);
  });

  it('keeps two stem cells unless told otherwise; 0 turns them off', () => {
    expect(DEFAULT_STEM_CELLS).toBe(2);
    expect(loadSettings({}, '/tmp').stemCells).toBe(2);
    expect(loadSettings({ HEARTH_STEM_CELLS: '0' }, '/tmp').stemCells).toBe(0);
    expect(loadSettings({ HEARTH_STEM_CELLS: '5' }, '/tmp').stemCells).toBe(5);
    expect(() => loadSettings({ HEARTH_STEM_CELLS: '-1' }, '/tmp')).toThrow(/HEARTH_STEM_CELLS/);
    // Cells are of the functions' default size unless told otherwise.
    expect(loadSettings({}, '/tmp').stemCellMemoryMb).toBe(DEFAULT_MEMORY_MB);
    expect(loadSettings({ HEARTH_STEM_CELL_MEMORY_MB: '256' }, '/tmp').stemCellMemoryMb).toBe(256);
    expect(() => loadSettings({ HEARTH_STEM_CELL_MEMORY_MB: '32' }, '/tmp')).toThrow(/HEARTH_STEM_CELL_MEMORY_MB/);
  });
});
