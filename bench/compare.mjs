// Ours (tfjs) against the PyTorch reference (bench/reference, Debian's python3-torch) at the same
// configurations, one process per measurement, run one after another on this machine. Prints a
// Markdown table with the ratio; --json writes every measurement.
//
//   pnpm bench:reference                       # all rows
//   node bench/compare.mjs --only inference --json results.json
//   node bench/compare.mjs --runs 3 --warmup 3                # steady state: 3 steps before the timed ones
//   node bench/compare.mjs --isa native,AVX2                  # each row natively and with both sides capped at AVX2 (the default)
//   PYTHON=/usr/bin/python3 ADL_BACKEND=wasm node bench/compare.mjs
//
// `--isa AVX2` caps oneDNN's kernels on both sides (ONEDNN_MAX_CPU_ISA; the addon's own loops follow
// its compile flags) and PyTorch's ATen kernels (ATEN_CPU_CAPABILITY), so the rows are those of a CPU
// without AVX-512; each row names the instruction set each side's oneDNN ran, and the table the CPU.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({ options: { only: { type: 'string' }, json: { type: 'string' }, runs: { type: 'string', default: '3' }, warmup: { type: 'string', default: '1' }, isa: { type: 'string', default: 'native,AVX2' } } });
const python = process.env.PYTHON ?? '/usr/bin/python3';
const runs = args.runs;
// Steps run before the timed ones, on both sides (the mixed-op bench keeps its own single warm-up).
const warmup = args.warmup;

/** The benchmark configurations: what each side runs. */
const CONFIGS = [
  {
    name: 'mixed-op',
    label: 'mixed op fwd+bwd [2, 40, 80, 80]',
    ours: () => {
      const out = join(mkdtempSync(join(tmpdir(), 'adl-bench-')), 'mixed.json');
      // The backend `auto` takes: onednn where its addon is built, else wasm.
      const backend = process.env.ADL_BACKEND ?? (oneDnnBuilt() ? 'onednn' : 'wasm');
      const kernels = process.env.ADL_KERNELS ?? (backend === 'onednn' ? 'onednn' : 'native');
      const { maxRssBytes } = run('node', ['packages/ops/bench/mixed-op-step.mjs', '--shape', '2,40,80,80', '--steps', runs, '--backends', backend, '--kernels', kernels, '--json', out]);
      const row = JSON.parse(readFileSync(out, 'utf8')).rows[0];
      return { medianMs: row.ms, params: null, engine: `tfjs ${row.backend}/${row.kernels}`, maxRssBytes };
    },
    reference: ['mixed-op', '--batch', '2', '--channels', '40', '--size', '80'],
    ownWarmup: true,
  },
  {
    name: 'search-step',
    label: 'search step (weights + α/β), supernet L = 4, F = 8, batch 2, 96×96; ours recomputes cells and mixed ops in backward (without, it needs more than the 4 GB wasm heap), the reference keeps activations; ours differentiates α and β only in the architecture step, the reference (as DARTS\'s code) also computes the weights\' gradients there',
    ours: () => lastJson(run('node', ['packages/trellis/bench/supernet-step.mjs', '--layers', '4', '--size', '96', '--batch', '2', '--warmup', warmup, '--runs', runs])),
    reference: ['search-step', '--layers', '4', '--filter', '8', '--size', '96', '--batch', '2'],
  },
  {
    name: 'search-step-paper',
    label: 'search step at the paper\'s size, supernet L = 12, F = 8, batch 2, 321×321, one step without warm-up (as above: ours recomputes, the reference keeps activations)',
    ours: () => lastJson(run('node', ['packages/trellis/bench/supernet-step.mjs', '--layers', '12', '--size', '321', '--batch', '2', '--warmup', '0', '--runs', '1'])),
    reference: ['search-step', '--layers', '12', '--filter', '8', '--size', '321', '--batch', '2'],
    // One step takes minutes: each side runs one, with no warm-up, whatever --runs and --warmup say.
    oneStep: true,
  },
  {
    name: 'retrain-step',
    label: 'retrain step autodeeplab-s, batch 2, 129×129',
    ours: () => lastJson(run('node', ['packages/trellis/bench/fixed-net.mjs', 'retrain-step', '--preset', 'autodeeplab-s', '--size', '129', '--batch', '2', '--warmup', warmup, '--runs', runs])),
    reference: ['retrain-step', '--preset', 'autodeeplab-s', '--size', '129', '--batch', '2'],
  },
  {
    name: 'retrain-step-769',
    label: 'retrain step autodeeplab-s, batch 2, 769×769 (the paper\'s crop)',
    ours: () => lastJson(run('node', ['packages/trellis/bench/fixed-net.mjs', 'retrain-step', '--preset', 'autodeeplab-s', '--size', '769', '--batch', '2', '--warmup', warmup, '--runs', runs])),
    reference: ['retrain-step', '--preset', 'autodeeplab-s', '--size', '769', '--batch', '2'],
  },
  {
    name: 'inference',
    label: 'inference autodeeplab-s, 1 image 256×512',
    ours: () => lastJson(run('node', ['packages/trellis/bench/fixed-net.mjs', 'inference', '--preset', 'autodeeplab-s', '--height', '256', '--width', '512', '--warmup', warmup, '--runs', runs])),
    reference: ['inference', '--preset', 'autodeeplab-s', '--height', '256', '--width', '512'],
  },
];

/** Whether @adl/onednn's addon was built, so that the backend `auto` takes is onednn. */
function oneDnnBuilt() {
  try {
    return createRequire(join(root, 'packages/ops/package.json'))('@adl/onednn').binding !== null;
  } catch {
    return false;
  }
}

/** The environment of the instruction set being measured (`capped`), for each side. */
let sideEnv = {};
const capped = (isa, side) =>
  isa === 'native' ? {} : side === 'ours' ? { ONEDNN_MAX_CPU_ISA: isa } : { ONEDNN_MAX_CPU_ISA: isa, DNNL_MAX_CPU_ISA: isa, ATEN_CPU_CAPABILITY: isa.toLowerCase() };

/** Runs a command under GNU time: its stdout, and the process's maximum resident set size that time reports. */
function run(command, commandArgs) {
  const result = spawnSync('/usr/bin/time', ['-f', 'maxRssKiB %M', command, ...commandArgs], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26, env: { ...process.env, ...sideEnv } });
  if (result.status !== 0) throw new Error(`${command} ${commandArgs.join(' ')} failed (${result.status}): ${(result.stderr || result.stdout).slice(-2000)}`);
  return { stdout: result.stdout, maxRssBytes: Number(/maxRssKiB (\d+)/.exec(result.stderr)?.[1]) * 1024 };
}

/** The last JSON line a run printed, with its time under one name and the run's max RSS. */
function lastJson({ stdout, maxRssBytes }) {
  const line = stdout.trim().split('\n').reverse().find((l) => l.startsWith('{'));
  const parsed = JSON.parse(line);
  return { ...parsed, medianMs: parsed.medianMs ?? parsed.stepMs, engine: parsed.engine ?? `tfjs ${parsed.backend}`, maxRssBytes };
}

// The reference builds its fixed networks from our presets.
const presets = join(mkdtempSync(join(tmpdir(), 'adl-bench-')), 'presets.json');
run('node', ['bench/write-presets.mjs', presets]);

/** The CPU: its model name and whether it has AVX-512. */
function cpuModel() {
  const info = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  const model = /^model name\s*:\s*(.+)$/m.exec(info)?.[1] ?? 'unknown CPU';
  return `${model} (${/^flags\s*:.*\bavx512f\b/m.test(info) ? 'AVX-512' : /^flags\s*:.*\bavx2\b/m.test(info) ? 'AVX2, no AVX-512' : 'no AVX2'})`;
}

/** The instruction set oneDNN reports when a side runs a convolution with the environment of `isa` (its verbose `isa:` line). */
function effectiveIsa(isa, side) {
  const script =
    side === 'ours'
      ? ["-e", "const tf = require('@tensorflow/tfjs'); require('@adl/onednn'); tf.setBackend('onednn').then(() => tf.conv2d(tf.ones([1, 8, 8, 8]), tf.ones([3, 3, 8, 8]), 1, 'same').dataSync())"]
      : ['-c', 'import torch; torch.nn.functional.conv2d(torch.ones(2, 64, 64, 64), torch.ones(64, 64, 3, 3), padding=1)'];
  const result = spawnSync(side === 'ours' ? 'node' : python, script, { cwd: join(root, 'packages/ops'), encoding: 'utf8', env: { ...process.env, ...capped(isa, side), ONEDNN_VERBOSE: '1', DNNL_VERBOSE: '1' } });
  return /_verbose,info,cpu,isa:(?:Intel )?([^,\n]+)/.exec(result.stdout)?.[1]?.trim() ?? 'unknown';
}

const isas = args.isa.split(',');
const rows = [];
for (const isa of isas) {
  const isaOf = { ours: effectiveIsa(isa, 'ours'), reference: effectiveIsa(isa, 'reference') };
  for (const config of CONFIGS.filter((c) => !args.only || args.only.split(',').includes(c.name))) {
    process.stderr.write(`${config.name} [${isa}]: ours … `);
    let ours;
    sideEnv = capped(isa, 'ours');
    try {
      ours = config.ours();
    } catch (error) {
      ours = { error: error.message.split('\n')[0] };
    }
    process.stderr.write(`${ours.medianMs?.toFixed(0) ?? 'failed'} ms; reference … `);
    sideEnv = capped(isa, 'reference');
    const [referenceRuns, referenceWarmup] = config.oneStep ? ['1', '0'] : [runs, config.ownWarmup ? '1' : warmup];
    const reference = lastJson(run(python, ['bench/reference/bench.py', ...config.reference, '--runs', referenceRuns, '--warmup', referenceWarmup, '--presets', presets]));
    sideEnv = {};
    process.stderr.write(`${reference.medianMs.toFixed(0)} ms\n`);
    rows.push({ config: config.name, label: config.label, isa, isaOf, ours, reference });
  }
}

const gb = (bytes) => (bytes / 1e9).toFixed(2);
console.log(`\nCPU: ${cpuModel()}.`);
console.log(`\n| configuration | oneDNN ISA (ours / PyTorch) | ours (ms) | PyTorch (ms) | ours / PyTorch | ours max RSS (GB) | PyTorch max RSS (GB) | RSS ratio | parameters equal |`);
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
for (const { label, isa, isaOf, ours, reference } of rows) {
  const ratio = ours.medianMs ? `${(ours.medianMs / reference.medianMs).toFixed(2)}×` : '—';
  const rssRatio = ours.maxRssBytes ? `${(ours.maxRssBytes / reference.maxRssBytes).toFixed(2)}×` : '—';
  const params = ours.params == null ? 'n/a' : ours.params === reference.params ? `yes (${reference.params.toLocaleString('en')})` : `NO: ${ours.params} vs ${reference.params}`;
  const isaCell = `${isa === 'native' ? 'native' : `capped at ${isa}`}: ${isaOf.ours} / ${isaOf.reference}`;
  console.log(`| ${label} | ${isaCell} | ${ours.medianMs?.toFixed(0) ?? `fails: ${ours.error}`} | ${reference.medianMs.toFixed(0)} | ${ratio} | ${ours.maxRssBytes ? gb(ours.maxRssBytes) : '—'} | ${gb(reference.maxRssBytes)} | ${rssRatio} | ${params} |`);
}
const engines = [...new Set(rows.flatMap((r) => [r.ours.engine, r.reference.engine]).filter(Boolean))];
console.log(`\nEngines: ${engines.join('; ')}; medians of ${runs} runs after ${warmup === '1' ? 'a warm-up run' : `${warmup} warm-up runs`}.`);
if (args.json) writeFileSync(args.json, JSON.stringify({ cpu: cpuModel(), rows }, null, 2));
