import { fileURLToPath } from 'node:url';
import { defineConfig, type ViteUserConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));
const packages = ['core', 'net', 'subprocess', 'signals', 'policy', 'testing'];

/**
 * The vitest settings every package shares. Workspace packages resolve to their
 * TypeScript sources, so tests never depend on a stale build.
 */
export function packageTestConfig(overrides: { pool?: 'forks' | 'threads'; testTimeout?: number } = {}): ViteUserConfig {
  // Set AIOLOOP_LEAK_CHECK=0 to run without the per-file leak check.
  const leakCheck = process.env.AIOLOOP_LEAK_CHECK !== '0';
  return defineConfig({
    resolve: {
      alias: [
        ...packages.map((name) => ({
          find: new RegExp(`^@aioloop/${name}$`),
          replacement: `${root}packages/${name}/src/index.ts`,
        })),
        // Subpath entry points (package.json "exports" beyond ".").
        { find: /^@aioloop\/testing\/conformance$/, replacement: `${root}packages/testing/src/conformance.ts` },
        { find: /^@aioloop\/core\/internal$/, replacement: `${root}packages/core/src/internal.ts` },
      ],
    },
    test: {
      include: ['test/**/*.test.ts'],
      pool: overrides.pool ?? 'forks',
      execArgv: ['--expose-gc'],
      testTimeout: overrides.testTimeout ?? 20_000,
      hookTimeout: 20_000,
      passWithNoTests: true,
      // After each test file: no handle, fd, unhandled rejection or never-retrieved exception left.
      setupFiles: leakCheck ? [`${root}scripts/vitest-leak-check.ts`] : [],
      // scripts/run-tests.mjs names one report per Node version.
      reporters: ['default', ['json', { outputFile: process.env.AIOLOOP_VITEST_REPORT ?? '.vitest-report.json' }]],
    },
  });
}
