/**
 * Test servers keep no stem cells unless a test asks (HEARTH_STEM_CELLS): most tests assert what a
 * function's own container does on its first call, and two cells per server would add two
 * container starts to every test file. Stem cells have their own tests (pool-stem, assets,
 * pool-lifecycle); the default itself is a settings test.
 */
export const NO_STEM_CELLS = { HEARTH_STEM_CELLS: '0' } as const;
