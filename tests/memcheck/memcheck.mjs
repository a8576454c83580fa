// Memory checks of the onednn addon, as one command (`pnpm memcheck`; also this package's test).
// The workload (workload.mjs: every convolution pass over small shapes, a short search, a retraining
// and an evaluation) runs under
//   - valgrind's memcheck, with oneDNN capped at AVX2 and at SSE4.1 (valgrind executes no AVX-512),
//     on a build of the addon with debug information: invalid reads and writes of the addon's loops
//     and of oneDNN's generated kernels alike;
//   - AddressSanitizer, on an ASAN build of the addon, natively and capped at AVX2: the addon's own
//     loops at full speed, every heap block (tensor arrays included) with red zones;
//   - glibc's heap checks (libc_malloc_debug, check=3), natively, on the package's own build.
// Prints a table and each failing check's report; exits 1 when a check fails.
//
//   node tests/memcheck/memcheck.mjs [--only valgrind,asan,glibc] [--keep DIR]
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({ options: { only: { type: 'string' }, keep: { type: 'string' } } });
const onednn = dirname(createRequire(import.meta.url).resolve('@adl/onednn/package.json'));
const work = args.keep ?? mkdtempSync(join(tmpdir(), 'adl-memcheck-'));
mkdirSync(work, { recursive: true });

function fail(message) {
  console.error(`memcheck: ${message}`);
  process.exit(1);
}

function which(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).stdout.trim() || null;
}

/** A build of the addon in `work/<name>` with extra compiler and linker flags; the path of its .node file. */
function buildAddon(name, cxxflags, ldflags) {
  const folder = join(work, name);
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder);
  cpSync(join(onednn, 'binding.gyp'), join(folder, 'binding.gyp'));
  cpSync(join(onednn, 'src'), join(folder, 'src'), { recursive: true, filter: (path) => !path.endsWith('.ts') });
  const built = spawnSync(process.execPath, [join(onednn, 'scripts', 'build.cjs'), folder], {
    encoding: 'utf8',
    env: { ...process.env, CXXFLAGS: cxxflags, LDFLAGS: ldflags, ADL_ONEDNN_NATIVE: '0' },
  });
  const addon = join(folder, 'build', 'Release', 'adl_onednn.node');
  if (built.status !== 0 || !existsSync(addon)) fail(`the ${name} build of the addon failed:\n${built.stdout}${built.stderr}`);
  return addon;
}

const valgrind = which('valgrind');
const libasan = spawnSync('g++', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).stdout.trim();
const mallocDebug = ['/lib/x86_64-linux-gnu/libc_malloc_debug.so.0', '/usr/lib/x86_64-linux-gnu/libc_malloc_debug.so.0', '/lib64/libc_malloc_debug.so.0'].find(existsSync);
const packageRelease = join(onednn, 'build', 'Release');

const kinds = new Set((args.only ?? 'valgrind,asan,glibc').split(','));
const started = performance.now();
const checks = [];

/** One check per instruction set, all on one build of the addon with these flags (built once). */
function checksOnBuild({ name, folder, build, cxxflags, ldflags, isas, command, env, errors }) {
  const addon = buildAddon(folder, cxxflags, ldflags);
  for (const isa of isas) checks.push({ name, isa, build, command, env: { ...env, ADL_ONEDNN_ADDON: addon, ONEDNN_MAX_CPU_ISA: isa }, errors });
}

if (kinds.has('valgrind')) {
  if (!valgrind) fail('valgrind not found (scripts/setup.sh installs it: apt-get install valgrind)');
  checksOnBuild({
    name: 'valgrind memcheck',
    folder: 'valgrind',
    build: 'debug (-g -O1)',
    // No -march: valgrind runs no AVX-512 instruction, whatever the build machine has.
    cxxflags: '-g -O1',
    ldflags: '',
    isas: ['AVX2', 'SSE41'],
    // Smaller translation blocks: oneDNN's JIT reorders into blocked layouts (used below AVX-512) are
    // unrolled so far that translating one default-sized block exhausts VEX's temporary storage.
    command: [valgrind, '--vex-guest-max-insns=25', '--error-exitcode=99', '--error-limit=no', '--num-callers=40', `--suppressions=${join(here, 'valgrind.supp')}`, process.execPath, join(here, 'workload.mjs')],
    env: {},
    errors: (log) => Number(/ERROR SUMMARY: (\d+) errors/.exec(log)?.[1] ?? NaN),
  });
}
if (kinds.has('asan')) {
  if (!existsSync(libasan)) fail(`AddressSanitizer's runtime not found (g++ -print-file-name=libasan.so gave ${libasan})`);
  checksOnBuild({
    name: 'AddressSanitizer',
    folder: 'asan',
    build: 'ASAN (-fsanitize=address)',
    cxxflags: '-g -O1 -fsanitize=address -fno-omit-frame-pointer',
    ldflags: '-fsanitize=address',
    isas: ['', 'AVX2'],
    command: [process.execPath, join(here, 'workload.mjs')],
    // Node and V8 are not instrumented: leaks at exit are theirs, and the whole heap is intercepted.
    env: { LD_PRELOAD: libasan, ASAN_OPTIONS: 'detect_leaks=0:exitcode=98' },
    errors: (log) => (log.match(/ERROR: AddressSanitizer/g) ?? []).length,
  });
}
if (kinds.has('glibc')) {
  if (!mallocDebug) fail("glibc's libc_malloc_debug.so.0 not found");
  if (!existsSync(join(packageRelease, 'adl_onednn.node'))) fail(`the package's addon is not built (${packageRelease})`);
  checks.push({
    name: "glibc's heap checks",
    isa: '',
    build: "the package's, as it loads here",
    command: [process.execPath, join(here, 'workload.mjs')],
    env: { LD_PRELOAD: mallocDebug, GLIBC_TUNABLES: 'glibc.malloc.check=3' },
    errors: (log) => (log.match(/malloc\(\)|free\(\)|corrupted|double free|invalid pointer/g) ?? []).length,
  });
}

/** Runs one check with its output in a log file; resolves with its row. */
function run(check, index) {
  const logFile = join(work, `check-${index}.log`);
  const log = createWriteStream(logFile);
  const begun = performance.now();
  return new Promise((resolve) => {
    const child = spawn(check.command[0], check.command.slice(1), { cwd: here, env: { ...process.env, ...check.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    child.on('close', (status, signal) => {
      log.end(() => {
        const text = readFileSync(logFile, 'utf8');
        const isa = /workload: oneDNN kernels ([^,\s]+)/.exec(text)?.[1] ?? '?';
        const errors = check.errors(text);
        // The addon under check, not the package's build (ADL_ONEDNN_ADDON is read by @adl/onednn's dist).
        const finished = text.includes('workload: evaluate') && text.includes(`, addon ${check.env.ADL_ONEDNN_ADDON ?? packageRelease}`);
        const ok = status === 0 && signal === null && errors === 0 && finished;
        resolve({ ...check, isa, errors, status, signal, ok, seconds: (performance.now() - begun) / 1000, logFile, text });
      });
    });
  });
}

// As many checks at once as there are cores: each is single-threaded for most of its time.
const rows = new Array(checks.length);
let next = 0;
await Promise.all(
  Array.from({ length: Math.min(checks.length, availableParallelism()) }, async () => {
    while (next < checks.length) {
      const index = next++;
      rows[index] = await run(checks[index], index);
    }
  }),
);

console.log('\n| check | oneDNN kernels | addon build | errors | exit | result | seconds |');
console.log('| --- | --- | --- | ---: | --- | --- | ---: |');
for (const row of rows) {
  const exit = row.signal ?? String(row.status);
  console.log(`| ${row.name} | ${row.isa} | ${row.build} | ${Number.isNaN(row.errors) ? '?' : row.errors} | ${exit} | ${row.ok ? 'clean' : '**FAILED**'} | ${row.seconds.toFixed(0)} |`);
}
const failed = rows.filter((row) => !row.ok);
for (const row of failed) {
  console.log(`\n--- ${row.name}, oneDNN ${row.isa} (${row.logFile}): the first reports ---`);
  const lines = row.text.split('\n');
  const first = lines.findIndex((line) => /Invalid|uninitialised|ERROR: AddressSanitizer|corrupted|free\(\)|malloc\(\)|Error|error/.test(line));
  console.log(lines.slice(Math.max(0, first), Math.max(0, first) + 60).join('\n'));
}
console.log(`\nmemcheck: ${rows.length - failed.length} of ${rows.length} checks clean in ${((performance.now() - started) / 1000).toFixed(0)} s`);
if (!args.keep && failed.length === 0) rmSync(work, { recursive: true, force: true });
process.exit(failed.length === 0 ? 0 : 1);
