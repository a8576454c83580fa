import { defineConfig } from 'vitest/config';

/**
 * The test settings every package shares: tests beside the code, each file in its own process
 * (tfjs backends are process-wide), generous timeouts for tensor work on 2 cores, and the package's
 * setup file (it registers the backends its tests run on), if it has one.
 */
export function packageTestConfig({ setupFile, timeout = 120_000 }: { setupFile?: string; timeout?: number } = {}) {
  return defineConfig({
    test: {
      include: ['src/**/*.test.ts'],
      testTimeout: timeout,
      hookTimeout: timeout,
      pool: 'forks',
      setupFiles: setupFile ? [setupFile] : [],
      // The onednn backend's OpenMP threads sleep between parallel regions instead of spinning: with
      // test files of several packages running at once, spinning threads made them 7× slower.
      env: { OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'PASSIVE' },
    },
  });
}
