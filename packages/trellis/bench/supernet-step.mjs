// One search step of the supernet (SGD step on the weights, then Adam step on α/β, each a full
// forward + backward) at the search size, with the memory it needs.
//
//   node bench/supernet-step.mjs                       # F = 8, L = 12, batch 2, 321×321, ADL_BACKEND or auto
//   ADL_BACKEND=cpu node bench/supernet-step.mjs --size 321 --batch 2 --filter 8 --layers 12
//   node bench/supernet-step.mjs --no-recompute       # keep every activation (the default recomputes cells and mixed ops in backward)
//   node bench/supernet-step.mjs --partial-channels 4  # PC-DARTS: mixed ops on 1/4 of their channels (beyond the paper)
//   node bench/supernet-step.mjs --per-edge            # one mixed op per edge instead of the edges of each state as one op
//   node bench/supernet-step.mjs --cells per-node      # one search cell per node instead of one per incoming edge
//   ADL_BACKEND=webgpu node bench/supernet-step.mjs --layers 4 --size 32   # also counts shader dispatches, uploads and GPU→CPU reads per step
//   ADL_BACKEND=webgpu node bench/supernet-step.mjs --layers 4 --size 32 --probe --dry-run   # per program, without running the shaders
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { formatProbe, probeWebGpu, Rng, selectBackend } from '@adl/backend';
import { crossEntropyIgnoring } from '@adl/ops';
import { SuperNet } from '../dist/index.js';
import { adam, sgd } from './reference-optimizers.mjs';
// The onednn backend, where it is installed and its addon built (it registers itself on import); the
// GPU bundle (bench/gpu) does not carry it.
await import('@adl/onednn').catch((error) => {
  if (error.code !== 'ERR_MODULE_NOT_FOUND') throw error;
});

const { values: args } = parseArgs({
  options: {
    size: { type: 'string', default: '321' },
    batch: { type: 'string', default: '2' },
    filter: { type: 'string', default: '8' },
    layers: { type: 'string', default: '12' },
    classes: { type: 'string', default: '19' },
    recompute: { type: 'boolean', default: true },
    'per-edge': { type: 'boolean', default: false },
    cells: { type: 'string', default: 'per-edge' },
    'partial-channels': { type: 'string', default: '1' },
    warmup: { type: 'string', default: '0' },
    runs: { type: 'string', default: '1' },
    profile: { type: 'boolean', default: false },
    // On webgpu: print what each step dispatches (programs, workgroups, loop lengths); with --dry-run record
    // the dispatches without running them (counts only; the loss printed is then meaningless).
    probe: { type: 'boolean', default: false },
    'dry-run': { type: 'boolean', default: false },
  },
  allowNegative: true,
});
const [size, batch, filterMultiplier, layers, numClasses] = [args.size, args.batch, args.filter, args.layers, args.classes].map(Number);
const { backend, kernels } = await selectBackend();
const ctx = { training: true, kernels };
const gib = (bytes) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;

const partialChannels = Number(args['partial-channels']);
const net = new SuperNet({ layers, filterMultiplier, numClasses, recompute: args.recompute, partialChannels, batchEdges: !args['per-edge'], cells: args.cells });
const { params, multAdds } = net.cost([size, size]);
console.log(`supernet F=${filterMultiplier} L=${layers}: ${(params / 1e6).toFixed(2)}M weights, ${(multAdds / 1e9).toFixed(1)}B multiply-adds per ${size}×${size} image; backend ${backend}, ${args.recompute ? 'cells and mixed ops recomputed in backward' : 'all activations kept'}${partialChannels > 1 ? `, mixed ops on 1/${partialChannels} of their channels` : ''}`);

const rng = new Rng(1);
const image = tf.tensor4d(rng.normalArray(batch * size * size * 3), [batch, size, size, 3]);
const labels = tf.tensor3d(Int32Array.from({ length: batch * size * size }, () => Math.floor(rng.next() * numClasses)), [batch, size, size], 'int32');
// As the reference (design §5): SGD(0.025, momentum 0.9, weight decay 3e-4), Adam(3e-3, (0.9, 0.999), weight decay 1e-3).
const weightOptimizer = sgd(net.weightVariables(), { learningRate: 0.025, momentum: 0.9, weightDecay: 3e-4 });
const architectureOptimizer = adam(net.architectureVariables(), { learningRate: 3e-3, beta1: 0.9, beta2: 0.999, weightDecay: 1e-3 });
let peak = { numTensors: 0, numBytes: 0 };

/**
 * Pixel-wise cross-entropy (the search's own loss, as PyTorch's F.cross_entropy); records the live tensors at the end of the forward pass (the peak). The
 * architecture step, as `search`, differentiates α and β only (`frozenWeights`).
 */
function loss(stepCtx = ctx) {
  const logits = net.apply(image, stepCtx);
  const value = crossEntropyIgnoring(logits, labels);
  const { numTensors, numBytes } = tf.memory();
  if (numBytes > peak.numBytes) peak = { numTensors, numBytes };
  return value;
}

/** One search step: the weight step, then the architecture step; their times in ms. */
async function searchStep(log) {
  const times = [];
  for (const [name, optimizer, stepCtx] of [
    ['weights (SGD, trainA batch)', weightOptimizer, ctx],
    ['α, β (Adam, trainB batch)', architectureOptimizer, { ...ctx, frozenWeights: true }],
  ]) {
    const start = performance.now();
    const value = optimizer.minimize(() => loss(stepCtx));
    const lossValue = (await value.data())[0];
    value.dispose();
    times.push(performance.now() - start);
    if (log) console.log(`${name}: ${(times[times.length - 1] / 1000).toFixed(1)} s, loss ${lossValue.toFixed(3)}`);
  }
  return times;
}

// On WebGPU every dispatch has a fixed cost on a real GPU, every upload a staging buffer, every read a wait.
const probe = tf.getBackend() === 'webgpu' ? probeWebGpu({ dryRun: args['dry-run'] }) : undefined;

for (let i = 0; i < Number(args.warmup); i++) await searchStep(false);
if (args.profile) await printProfile();

/**
 * `--profile`: one weight step with every kernel of the backend timed (tf.profile overflows the
 * stack at this many kernel calls); kernels by total time.
 */
async function printProfile() {
  const byKernel = new Map();
  const configs = tf.getKernelsForBackend(tf.getBackend());
  const originals = configs.map((config) => config.kernelFunc);
  configs.forEach((config, i) => {
    config.kernelFunc = (kernelArgs) => {
      const start = performance.now();
      const result = originals[i](kernelArgs);
      const entry = byKernel.get(config.kernelName) ?? { ms: 0, calls: 0 };
      entry.ms += performance.now() - start;
      entry.calls++;
      byKernel.set(config.kernelName, entry);
      return result;
    };
  });
  const start = performance.now();
  tf.dispose(weightOptimizer.minimize(loss));
  const wall = performance.now() - start;
  configs.forEach((config, i) => (config.kernelFunc = originals[i]));
  const total = [...byKernel.values()].reduce((sum, e) => sum + e.ms, 0);
  const calls = [...byKernel.values()].reduce((sum, e) => sum + e.calls, 0);
  console.log(`kernels of one weight step: ${(total / 1000).toFixed(1)} s in ${calls} calls, ${(wall / 1000).toFixed(1)} s wall`);
  for (const [name, entry] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) {
    console.log(`  ${name.padEnd(40)} ${(entry.ms / 1000).toFixed(2).padStart(7)} s ${((100 * entry.ms) / total).toFixed(1).padStart(5)}% ${String(entry.calls).padStart(7)} calls`);
  }
}

const runs = [];
probe?.reset();
for (let i = 0; i < Number(args.runs); i++) runs.push(await searchStep(true));
const perStep = (key) => probe.counts()[key] / Number(args.runs);
// The WebGPU backend keeps freed buffers for reuse: what it holds on the GPU is its allocated total.
const gpuBytesAllocated = tf.memory().numBytesAllocatedInGPU;
if (probe) {
  console.log(`per search step: ${perStep('dispatches')} shader dispatches, ${perStep('uploads')} uploads, ${perStep('reads')} GPU→CPU reads; ${gib(gpuBytesAllocated)} allocated on the GPU`);
  if (args.probe) console.log(formatProbe(probe, Number(args.runs)));
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];
const stepMs = [median(runs.map((r) => r[0])), median(runs.map((r) => r[1]))];
const maxRss = process.resourceUsage().maxRSS * 1024;
console.log(`peak: ${peak.numTensors} live tensors, ${gib(peak.numBytes)} in tensors; process max RSS ${gib(maxRss)}`);
console.log(JSON.stringify({ engine: `tfjs ${backend}/${kernels.name}`, backend, recompute: args.recompute, partialChannels, batchEdges: net.batchEdges, cells: net.cells, stepMs: stepMs[0] + stepMs[1], weightStepMs: stepMs[0], architectureStepMs: stepMs[1], size, batch, filterMultiplier, layers, params, multAdds, peakTensors: peak.numTensors, peakTensorBytes: peak.numBytes, maxRss, ...(probe ? { dispatchesPerStep: perStep('dispatches'), uploadsPerStep: perStep('uploads'), readsPerStep: perStep('reads'), gpuBytesAllocated, ...(args['dry-run'] ? { dryRun: true } : {}) } : {}) }));
net.dispose();
