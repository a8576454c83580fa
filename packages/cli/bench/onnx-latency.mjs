// Inference latency of a preset exported to ONNX, in ONNX Runtime (CPU), beside ours on the current
// backend, in one command; prints one JSON line with the ratio.
//
//   OMP_WAIT_POLICY=PASSIVE node bench/onnx-latency.mjs --preset autodeeplab-s --height 1024 --width 2048
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { selectBackend } from '@adl/backend';
import { exportOnnx, measureLatency } from '@adl/eval';
import { FixedNet, getPreset } from '@adl/trellis';
// The onednn backend, where its addon is built (it registers itself on import).
await import('@adl/onednn').catch((error) => {
  if (error.code !== 'ERR_MODULE_NOT_FOUND') throw error;
});

const { values: args } = parseArgs({
  options: {
    preset: { type: 'string', default: 'autodeeplab-s' },
    height: { type: 'string', default: '1024' },
    width: { type: 'string', default: '2048' },
    runs: { type: 'string', default: '3' },
  },
});
const [height, width, runs] = [args.height, args.width, args.runs].map(Number);
const { backend, kernels } = await selectBackend({ log: null });
const net = new FixedNet({ architecture: getPreset(args.preset), numClasses: 19 });
const exportStart = performance.now();
const exported = await exportOnnx(net, { height, width });
const exportSeconds = (performance.now() - exportStart) / 1000;

const ours = await measureLatency(net, { height, width, kernels, runs, warmup: 1 });
net.dispose();

const session = await ort.InferenceSession.create(exported.bytes);
const feeds = { image: new ort.Tensor('float32', new Float32Array(3 * height * width).fill(128), [1, 3, height, width]) };
await session.run(feeds);
const times = [];
for (let i = 0; i < runs; i++) {
  const start = performance.now();
  await session.run(feeds);
  times.push(performance.now() - start);
}
const ortMs = [...times].sort((a, b) => a - b)[Math.floor((runs - 1) / 2)];
console.log(JSON.stringify({
  preset: args.preset, height, width, modelMiB: +(exported.bytes.length / 2 ** 20).toFixed(1), exportSeconds: +exportSeconds.toFixed(1),
  ours: { backend: `${backend}/${kernels.name}`, medianMs: +ours.medianMs.toFixed(0) },
  onnxRuntime: { medianMs: +ortMs.toFixed(0), timesMs: times.map((t) => +t.toFixed(0)) },
  oursOverOnnxRuntime: +(ours.medianMs / ortMs).toFixed(2),
  maxRssGiB: +(process.resourceUsage().maxRSS / 2 ** 20).toFixed(2),
}));
