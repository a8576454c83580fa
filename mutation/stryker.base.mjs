// @ts-check
import { fileURLToPath } from 'node:url';

/**
 * The mutation-testing settings every package shares; a package's `stryker.config.mjs` adds the
 * files that carry the paper's rules (`mutate`). Run `pnpm mutate` at the root for all of them,
 * `pnpm --filter @adl/<name> mutate` for one.
 * @param {string[]} mutate
 * @returns {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export function strykerConfig(mutate) {
  return {
    testRunner: 'vitest',
    plugins: ['@stryker-mutator/vitest-runner', fileURLToPath(new URL('./ignore-messages.mjs', import.meta.url))],
    ignorers: ['messages'],
    mutate,
    // Each mutant runs only the tests that reach it.
    coverageAnalysis: 'perTest',
    // Module-level constants (the label table, PRIMITIVES) are evaluated once per test file; the
    // vitest runner does not re-evaluate them per mutant (stryker-js #6209), so such mutants would be
    // reported as survivors without having run. Their tables are tested entry by entry instead.
    ignoreStatic: true,
    concurrency: 2,
    // A mutant's tests may take this much longer than without it (plus 1.5× their own time) before
    // it counts as a timeout (detected): a mutant that loops forever costs this much, no more.
    timeoutMS: 10_000,
    reporters: ['clear-text', 'progress-append-only', 'json', 'html'],
    htmlReporter: { fileName: 'reports/mutation/index.html' },
    jsonReporter: { fileName: 'reports/mutation/mutation.json' },
    clearTextReporter: { allowEmojis: false, logTests: false, reportScoreTable: true, reportMutants: true },
    // Mutate the files where they are (restored afterwards): the vitest configs import the shared
    // one by a relative path that a sandbox copy would break. Leave the tree alone while it runs.
    inPlace: true,
    incremental: false,
    cleanTempDir: 'always',
  };
}
