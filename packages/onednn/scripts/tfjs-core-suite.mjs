// tfjs-core's published kernel tests (`@tensorflow/tfjs-core/dist/ops/*_test.js`) run against one backend,
// as tfjs's own backend packages run them: jasmine with tfjs-core's harness (`dist/jasmine_util`).
// Run with tsx, which loads the test files' extension-less ES imports:
//
//   tsx scripts/tfjs-core-suite.mjs --backend onednn|cpu|webgpu [--json FILE] [--filter TEXT]
//
// Prints the totals and each failed spec; writes them as JSON with --json; exits 1 when a spec failed.
import { createRequire } from 'node:module';
import { readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';

/**
 * Specs not run, by backend, each as a substring of the spec's full name with the reason. None: every
 * spec runs on cpu, onednn and webgpu (webgpu's upstream failures are counted, not hidden).
 */
const EXCLUDED_SPECS = { cpu: [], onednn: [], webgpu: [] };

const { values: args } = parseArgs({
  options: { backend: { type: 'string', default: 'onednn' }, json: { type: 'string' }, filter: { type: 'string' } },
});
const require = createRequire(import.meta.url);
const Jasmine = require('jasmine');
const core = dirname(require.resolve('@tensorflow/tfjs-core/package.json'));

// The full tfjs package registers the cpu backend and every gradient; the backend under test registers itself.
const tf = await import('@tensorflow/tfjs');
if (args.backend === 'onednn') await import('@adl/onednn');
if (args.backend === 'webgpu') {
  // Dawn through the `webgpu` package, as the pipeline loads it (a software adapter included).
  const { selectBackend } = await import('@adl/backend');
  await selectBackend({ backend: 'webgpu', log: null });
}
if (!tf.findBackendFactory(args.backend)) {
  console.error(`tfjs-core-suite: backend "${args.backend}" is not registered here (for onednn: is its addon built?)`);
  process.exit(2);
}

const runner = new Jasmine();
runner.loadConfig({ random: false, stopSpecOnExpectationFailure: false });
runner.exitOnCompletion = false;
// Jasmine fails an asynchronous spec after 5 s; on a loaded 2-core machine a WebGPU spec on the
// software adapter can take longer (a timeout there counted as a kernel failure).
runner.jasmine.DEFAULT_TIMEOUT_INTERVAL = 60_000;
// The harness's own instance of tfjs-core (the one the test files import) needs its chained ops and gradients.
require(join(core, 'dist/public/chained_ops/register_all_chained_ops.js'));
require(join(core, 'dist/register_all_gradients.js'));
const harness = require(join(core, 'dist/jasmine_util.js'));
harness.setTestEnvs([{ name: args.backend, backendName: args.backend, flags: {}, isDataSync: args.backend !== 'webgpu' }]);
const excluded = EXCLUDED_SPECS[args.backend] ?? [];
harness.setupTestFilters([], (name) => !excluded.some(({ spec }) => name.includes(spec)) && (args.filter === undefined || name.includes(args.filter)));

const totals = { backend: args.backend, passed: 0, failed: 0, excluded: 0, failures: [] };
runner.env.clearReporters();
runner.addReporter({
  specDone(result) {
    if (result.status === 'passed') totals.passed++;
    else if (result.status === 'failed') {
      totals.failed++;
      totals.failures.push({ spec: result.fullName, message: result.failedExpectations[0]?.message.split('\n')[0] ?? '' });
    } else totals.excluded++;
  },
});
const opsTests = join(core, 'dist/ops');
for (const file of readdirSync(opsTests).filter((name) => name.endsWith('_test.js')).sort()) require(join(opsTests, file));
const started = performance.now();
await runner.execute();
totals.seconds = Math.round((performance.now() - started) / 1000);

for (const { spec, message } of totals.failures) console.log(`FAILED ${spec}\n    ${message}`);
console.log(`tfjs-core kernel tests on ${args.backend}: ${totals.passed} passed, ${totals.failed} failed, ${totals.excluded} excluded (${totals.seconds} s)`);
if (args.json) writeFileSync(args.json, `${JSON.stringify(totals, null, 2)}\n`);
process.exit(totals.failed > 0 ? 1 : 0);
