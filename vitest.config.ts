import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // `import 'hearth'` in tests resolves to the TypeScript sources, not a (possibly stale) dist/.
  resolve: { conditions: ['hearth-source', ...defaultServerConditions] },
  ssr: { resolve: { conditions: ['hearth-source', ...defaultServerConditions], externalConditions: ['hearth-source'] } },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Each end-to-end file starts its own Hearth (Redis + runc containers); on 2 cores they run best one at a time.
    fileParallelism: false,
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    // Request logs (pino, one JSON line per request) would bury test output; a test that checks them sets its own level.
    env: { HEARTH_LOG_LEVEL: process.env.HEARTH_LOG_LEVEL ?? 'silent' },
    hookTimeout: 120_000,
  },
});
