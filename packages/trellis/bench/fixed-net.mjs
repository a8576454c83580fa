// A retraining step (forward + backward + SGD with momentum and weight decay, batch of square crops) or an inference
// pass (one image, evaluation mode) of a preset's FixedNet; prints one JSON line.
//
//   node bench/fixed-net.mjs retrain-step --preset autodeeplab-s --size 129 --batch 2 [--keep-activations]
//   node bench/fixed-net.mjs inference --preset autodeeplab-s --height 256 --width 512
//   node bench/fixed-net.mjs retrain-step --size 769 --kernel-times                # one more step, time per tfjs kernel (tf.profile)
//   node bench/fixed-net.mjs retrain-step --size 769 --recompute-min-floats 4e6    # recompute only cells whose output holds ≥ 4M floats
//   ADL_BACKEND=webgpu node bench/fixed-net.mjs retrain-step --size 769 --probe --dry-run   # what one step dispatches, without running it
//   ADL_BACKEND=webgpu node bench/fixed-net.mjs retrain-step --size 769 --gpu-times        # GPU time per program of one step (timestamp queries)
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { formatProbe, probeWebGpu, Rng, selectBackend } from '@adl/backend';
import { crossEntropyIgnoring } from '@adl/ops';
import { FixedNet, getPreset } from '../dist/index.js';
import { sgd } from './reference-optimizers.mjs';
// The onednn backend, where it is installed and its addon built (it registers itself on import); the
// GPU bundle (bench/gpu) does not carry it.
await import('@adl/onednn').catch((error) => {
  if (error.code !== 'ERR_MODULE_NOT_FOUND') throw error;
});

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    preset: { type: 'string', default: 'autodeeplab-s' },
    size: { type: 'string', default: '129' },
    batch: { type: 'string', default: '2' },
    height: { type: 'string', default: '256' },
    width: { type: 'string', default: '512' },
    classes: { type: 'string', default: '19' },
    warmup: { type: 'string', default: '1' },
    runs: { type: 'string', default: '3' },
    // Retraining recomputes cells in the backward pass by default; this keeps their activations instead.
    'keep-activations': { type: 'boolean', default: false },
    // Recomputing, cells whose output holds fewer floats keep their activations (FixedNet's recomputeMinOutputFloats).
    'recompute-min-floats': { type: 'string' },
    // On webgpu: print what each step dispatches (programs, workgroups, loop lengths); with --dry-run record
    // the dispatches without running them (counts only, at sizes a software adapter would take minutes for).
    probe: { type: 'boolean', default: false },
    'dry-run': { type: 'boolean', default: false },
    // On webgpu: one more step with each dispatch timed on the GPU (timestamp queries, where the adapter has them).
    'gpu-times': { type: 'boolean', default: false },
    // One more step with each tfjs kernel timed (tf.profile): milliseconds per kernel name, most first.
    'kernel-times': { type: 'boolean', default: false },
  },
});
const what = positionals[0] ?? 'inference';
if (what !== 'retrain-step' && what !== 'inference') throw new Error(`expected retrain-step or inference, got ${what}`);
const [size, batch, height, width, numClasses] = [args.size, args.batch, args.height, args.width, args.classes].map(Number);
const { backend, kernels, device } = await selectBackend({ log: null });
const recomputeMinOutputFloats = args['recompute-min-floats'] === undefined ? undefined : Number(args['recompute-min-floats']);
const net = new FixedNet({ architecture: getPreset(args.preset), numClasses, recompute: !args['keep-activations'], recomputeMinOutputFloats });
const rng = new Rng(1);
let step;
/** The step's work as one synchronous call (for timing every dispatch on the GPU); returns what to dispose. */
let work;
if (what === 'retrain-step') {
  const image = tf.tensor4d(rng.normalArray(batch * size * size * 3), [batch, size, size, 3]);
  const labels = tf.tensor3d(Int32Array.from({ length: batch * size * size }, () => Math.floor(rng.next() * numClasses)), [batch, size, size], 'int32');
  // As the reference: SGD(lr 0.05, momentum 0.9, weight decay 4e-5), and retraining's loss (as F.cross_entropy).
  const optimizer = sgd(net.trainableVariables(), { learningRate: 0.05, momentum: 0.9, weightDecay: 4e-5 });
  const ctx = { training: true, kernels };
  work = () => optimizer.minimize(() => crossEntropyIgnoring(net.apply(image, ctx), labels));
  step = async () => {
    const value = work();
    await value.data();
    value.dispose();
  };
} else {
  const image = tf.tensor4d(rng.normalArray(height * width * 3), [1, height, width, 3]);
  const ctx = { training: false, kernels };
  work = () => tf.tidy(() => net.apply(image, ctx));
  step = async () => {
    const logits = work();
    await logits.data();
    logits.dispose();
  };
}
const probe = tf.getBackend() === 'webgpu' ? probeWebGpu({ dryRun: args['dry-run'] }) : undefined;
for (let i = 0; i < Number(args.warmup); i++) await step();
probe?.reset();
const timesMs = [];
// Memory mappings after each run (Linux): the onednn backend's large buffers are mappings of their own.
const mappingsPerRun = [];
const mappings = () => (existsSync('/proc/self/maps') ? readFileSync('/proc/self/maps', 'utf8').split('\n').length - 1 : undefined);
for (let i = 0; i < Number(args.runs); i++) {
  const start = performance.now();
  await step();
  timesMs.push(performance.now() - start);
  mappingsPerRun.push(mappings());
}
const runs = Number(args.runs);
const gpuTimes = probe && args['gpu-times'] ? await gpuTimesByProgram() : undefined;
const kernelTimes = args['kernel-times'] ? await timesByKernel() : undefined;

/** One more step under tf.profile: wall milliseconds and calls per kernel name, most first. */
async function timesByKernel() {
  const start = performance.now();
  const info = await tf.profile(() => tf.dispose(work()));
  const stepMs = performance.now() - start;
  const byKernel = new Map();
  for (const kernel of info.kernels) {
    const total = byKernel.get(kernel.name) ?? { ms: 0, calls: 0 };
    byKernel.set(kernel.name, { ms: total.ms + (await kernel.kernelTimeMs), calls: total.calls + 1 });
  }
  const sorted = [...byKernel].sort((a, b) => b[1].ms - a[1].ms);
  const kernelMs = sorted.reduce((sum, [, e]) => sum + e.ms, 0);
  console.error(`tfjs kernels of one step: ${kernelMs.toFixed(0)} ms of ${stepMs.toFixed(0)} ms in ${info.kernels.length} calls`);
  for (const [name, e] of sorted.slice(0, 30)) {
    console.error(`  ${name.padEnd(32)} ${e.ms.toFixed(1).padStart(9)} ms ${String(e.calls).padStart(6)} calls ${((100 * e.ms) / kernelMs).toFixed(1).padStart(5)}%`);
  }
  return Object.fromEntries(sorted.map(([name, e]) => [name, { ms: Math.round(e.ms * 10) / 10, calls: e.calls }]));
}
/**
 * One more step with every dispatch timed alone on the GPU (tfjs's profiling: a compute pass per
 * dispatch with timestamp writes); milliseconds per program, most first. Zero where the adapter has
 * no timestamp queries.
 */
async function gpuTimesByProgram() {
  const info = await tf.time(() => tf.dispose(work()));
  const byProgram = new Map();
  for (const entry of info.getExtraProfileInfo?.().split(', ') ?? []) {
    const at = entry.lastIndexOf(': ');
    const [program, ms] = [entry.slice(0, at), Number(entry.slice(at + 2))];
    const total = byProgram.get(program) ?? { ms: 0, dispatches: 0 };
    byProgram.set(program, { ms: total.ms + ms, dispatches: total.dispatches + 1 });
  }
  const sorted = [...byProgram].sort((a, b) => b[1].ms - a[1].ms);
  const totalMs = sorted.reduce((sum, [, e]) => sum + e.ms, 0);
  console.error(`GPU time of one step, each dispatch timed alone: ${totalMs.toFixed(1)} ms in ${sorted.reduce((n, [, e]) => n + e.dispatches, 0)} dispatches${tf.backend().supportTimestampQuery ? '' : ' (this adapter has no timestamp queries: all zero)'}`);
  for (const [program, e] of sorted.slice(0, 25)) {
    console.error(`  ${program.padEnd(40)} ${e.ms.toFixed(2).padStart(9)} ms ${String(e.dispatches).padStart(6)} dispatches ${(totalMs ? (100 * e.ms) / totalMs : 0).toFixed(1).padStart(5)}%`);
  }
  return Object.fromEntries(sorted.map(([program, e]) => [program, Math.round(e.ms * 1000) / 1000]));
}
if (probe && args.probe) console.error(formatProbe(probe, runs));
const probed = probe ? { dispatchesPerStep: probe.counts().dispatches / runs, uploadsPerStep: probe.counts().uploads / runs, readsPerStep: probe.counts().reads / runs, ...(args['dry-run'] ? { dryRun: true } : {}) } : {};
const medianMs = [...timesMs].sort((a, b) => a - b)[Math.floor((timesMs.length - 1) / 2)];
const params = net.trainableVariables().reduce((sum, v) => sum + v.size, 0);
console.log(JSON.stringify({ engine: `tfjs ${backend}/${kernels.name}`, ...(device === undefined ? {} : { device }), what, preset: args.preset, params, medianMs, timesMs, mappingsPerRun, maxRssBytes: process.resourceUsage().maxRSS * 1024, ...probed, ...(gpuTimes ? { gpuMsByProgram: gpuTimes } : {}), ...(kernelTimes ? { kernelTimes } : {}) }));
