// Time of one mixed-op training step (forward + backward of the 8 candidate ops at C channels,
// softmax(α)-weighted) for every backend × kernel set that loads here, with a gradient check
// against the cpu backend's portable kernels. Each measurement runs in its own process, so a
// backend that crashes (or a missing kernel) becomes a row of the table, not the end of the run.
//
//   pnpm bench                       # [2, 40, 80, 80], all backends found
//   node bench/mixed-op-step.mjs --shape 2,40,80,80 --steps 3 --backends wasm,cpu --json out.json
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { kernelSet, Rng, selectBackend } from '@adl/backend';
// The onednn backend, where its addon was built (it registers itself on import).
import '@adl/onednn';
import { createOp, PRIMITIVES } from '../dist/index.js';

const { values: args } = parseArgs({
  options: {
    shape: { type: 'string', default: '2,40,80,80' },
    steps: { type: 'string', default: '3' },
    backends: { type: 'string', default: 'webgpu,onednn,wasm,cpu' },
    kernels: { type: 'string', default: 'native,portable,stock,onednn' },
    json: { type: 'string' },
    worker: { type: 'string' },
  },
});
const [batch, channels, height, width] = args.shape.split(',').map(Number);
const steps = Number(args.steps);

function buildMixedOp() {
  const rng = new Rng(1);
  const ops = PRIMITIVES.map((name) => createOp(name, { channels, mode: 'search', rng }));
  const alpha = tf.variable(tf.tensor1d(new Rng(2).normalArray(PRIMITIVES.length, 1e-3)), true);
  const input = tf.tensor4d(new Rng(3).normalArray(batch * height * width * channels), [batch, height, width, channels]);
  const target = tf.tensor4d(new Rng(4).normalArray(batch * height * width * channels), [batch, height, width, channels]);
  const weights = ops.flatMap((op) => op.trainableVariables());
  const dispose = () => {
    ops.forEach((op) => op.dispose());
    tf.dispose([alpha, input, target]);
  };
  return { ops, alpha, input, target, variables: [alpha, ...weights], dispose };
}

/** One step: loss = ⟨Σ_k softmax(α)_k · op_k(x), target⟩ / n, gradients of α and every weight. */
function step(model, kernels) {
  const ctx = { training: true, kernels };
  return tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => {
      const mix = tf.softmax(model.alpha);
      // As MixedOp: `none` (op 0) is skipped; the others are summed with the kernel set's weightedSum.
      const outputs = model.ops.slice(1).map((op) => op.apply(model.input, ctx));
      const mixed = kernels.weightedSum(outputs, tf.slice(mix, [1], [outputs.length]));
      return tf.div(tf.sum(tf.mul(mixed, model.target)), model.input.size);
    }, model.variables);
    return { loss: value, alphaGrad: grads[model.alpha.name] };
  });
}

async function measure(backend, kernelName) {
  await selectBackend({ backend, kernels: kernelName, log: null });
  const model = buildMixedOp();
  const kernels = kernelSet(kernelName);
  try {
    const first = step(model, kernels);
    const alphaGrad = Array.from(await first.alphaGrad.data());
    const loss = (await first.loss.data())[0];
    tf.dispose([first.loss, first.alphaGrad]);
    const times = [];
    for (let i = 0; i < steps; i++) {
      const start = performance.now();
      const out = step(model, kernels);
      await out.loss.data();
      await out.alphaGrad.data();
      tf.dispose([out.loss, out.alphaGrad]);
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    return { backend, kernels: kernelName, ok: true, ms: times[Math.floor(times.length / 2)], loss, alphaGrad };
  } catch (error) {
    return { backend, kernels: kernelName, ok: false, error: String(error.message ?? error).split('\n')[0] };
  } finally {
    model.dispose();
  }
}

if (args.worker) {
  const [backend, kernelName] = args.worker.split(':');
  process.stdout.write(`\n@@${JSON.stringify(await measure(backend, kernelName))}\n`);
  process.exit(0);
}

/** Runs one measurement in a child process; a crash is reported with its last output line. */
function measureIsolated(backend, kernelName) {
  const child = spawnSync(
    process.execPath,
    [fileURLToPath(import.meta.url), '--worker', `${backend}:${kernelName}`, '--shape', args.shape, '--steps', args.steps],
    { encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  const line = child.stdout.split('\n').find((l) => l.startsWith('@@'));
  if (line) return JSON.parse(line.slice(2));
  const lastLine = `${child.stderr}`.trim().split('\n').filter(Boolean).at(-1) ?? `exit ${child.status}`;
  return { backend, kernels: kernelName, ok: false, error: `process crashed (${child.signal ?? `exit ${child.status}`}): ${lastLine}` };
}

const rows = [];
for (const backend of args.backends.split(',')) {
  for (const kernelName of args.kernels.split(',')) {
    // The onednn kernel set runs on the onednn backend only.
    if (kernelName === 'onednn' && backend !== 'onednn') continue;
    rows.push(measureIsolated(backend, kernelName));
    const row = rows.at(-1);
    console.error(`${backend}/${kernelName}: ${row.ok ? `${row.ms.toFixed(0)} ms` : row.error}`);
  }
}

// Reference gradient: cpu backend, portable kernels (every op gradient-checked there).
let reference = rows.find((r) => r.ok && r.backend === 'cpu' && r.kernels === 'portable');
if (!reference) reference = measureIsolated('cpu', 'portable');
const relativeError = (row) => {
  const scale = Math.max(...reference.alphaGrad.map(Math.abs));
  return Math.max(...row.alphaGrad.map((g, i) => Math.abs(g - reference.alphaGrad[i]))) / scale;
};
const fastest = rows.filter((r) => r.ok).reduce((best, r) => (r.ms < best.ms ? r : best), { ms: Infinity });

console.log(`\nMixed-op training step at [${batch}, ${channels}, ${height}, ${width}] (NCHW sizes; median of ${steps}):\n`);
console.log('| backend | kernels | ms / step | vs fastest | ∂loss/∂α vs cpu-portable |');
console.log('| --- | --- | ---: | ---: | --- |');
for (const row of rows) {
  if (!row.ok) {
    console.log(`| ${row.backend} | ${row.kernels} | — | — | fails: ${row.error} |`);
    continue;
  }
  const error = relativeError(row);
  const verdict = error < 1e-3 ? `agrees (max rel. diff ${error.toExponential(1)})` : `WRONG (max rel. diff ${error.toExponential(1)})`;
  console.log(`| ${row.backend} | ${row.kernels} | ${row.ms.toFixed(0)} | ${(row.ms / fastest.ms).toFixed(2)}× | ${verdict} |`);
}
if (args.json) writeFileSync(args.json, JSON.stringify({ shape: [batch, channels, height, width], steps, rows }, null, 2));
