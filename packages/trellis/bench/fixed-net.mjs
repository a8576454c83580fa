// A retraining step (forward + backward + SGD with momentum and weight decay, batch of square crops) or an inference
// pass (one image, evaluation mode) of a preset's FixedNet; prints one JSON line.
//
//   node bench/fixed-net.mjs retrain-step --preset autodeeplab-s --size 129 --batch 2 [--keep-activations]
//   node bench/fixed-net.mjs inference --preset autodeeplab-s --height 256 --width 512
//   ADL_BACKEND=webgpu node bench/fixed-net.mjs retrain-step --size 769 --probe --dry-run   # what one step dispatches, without running it
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
    // On webgpu: print what each step dispatches (programs, workgroups, loop lengths); with --dry-run record
    // the dispatches without running them (counts only, at sizes a software adapter would take minutes for).
    probe: { type: 'boolean', default: false },
    'dry-run': { type: 'boolean', default: false },
  },
});
const what = positionals[0] ?? 'inference';
if (what !== 'retrain-step' && what !== 'inference') throw new Error(`expected retrain-step or inference, got ${what}`);
const [size, batch, height, width, numClasses] = [args.size, args.batch, args.height, args.width, args.classes].map(Number);
const { backend, kernels, device } = await selectBackend({ log: null });
const net = new FixedNet({ architecture: getPreset(args.preset), numClasses, recompute: !args['keep-activations'] });
const rng = new Rng(1);
let step;
if (what === 'retrain-step') {
  const image = tf.tensor4d(rng.normalArray(batch * size * size * 3), [batch, size, size, 3]);
  const labels = tf.tensor3d(Int32Array.from({ length: batch * size * size }, () => Math.floor(rng.next() * numClasses)), [batch, size, size], 'int32');
  // As the reference: SGD(lr 0.05, momentum 0.9, weight decay 4e-5), and retraining's loss (as F.cross_entropy).
  const optimizer = sgd(net.trainableVariables(), { learningRate: 0.05, momentum: 0.9, weightDecay: 4e-5 });
  const ctx = { training: true, kernels };
  step = async () => {
    const value = optimizer.minimize(() => crossEntropyIgnoring(net.apply(image, ctx), labels));
    await value.data();
    value.dispose();
  };
} else {
  const image = tf.tensor4d(rng.normalArray(height * width * 3), [1, height, width, 3]);
  const ctx = { training: false, kernels };
  step = async () => {
    const logits = tf.tidy(() => net.apply(image, ctx));
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
if (probe && args.probe) console.error(formatProbe(probe, runs));
const probed = probe ? { dispatchesPerStep: probe.counts().dispatches / runs, uploadsPerStep: probe.counts().uploads / runs, readsPerStep: probe.counts().reads / runs, ...(args['dry-run'] ? { dryRun: true } : {}) } : {};
const medianMs = [...timesMs].sort((a, b) => a - b)[Math.floor((timesMs.length - 1) / 2)];
const params = net.trainableVariables().reduce((sum, v) => sum + v.size, 0);
console.log(JSON.stringify({ engine: `tfjs ${backend}/${kernels.name}`, ...(device === undefined ? {} : { device }), what, preset: args.preset, params, medianMs, timesMs, mappingsPerRun, maxRssBytes: process.resourceUsage().maxRSS * 1024, ...probed }));
