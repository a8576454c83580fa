// What the memory checks run: every convolution pass over a grid of small shapes, then a short
// search, a retraining and an evaluation on the onednn backend. Prints one line per stage.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addonFile, binding, instructionSet } from '@adl/onednn';
import { generateSynthetic, listSplit } from '@adl/data-cityscapes';
import { evaluateSamples } from '@adl/eval';
import { loadTrainedNet, retrain, search, selectInstalledBackend } from '@adl/search';

if (!binding) throw new Error(`workload: the onednn addon did not load (${addonFile})`);
const { kernels } = await selectInstalledBackend({ backend: 'onednn', log: null });
const started = performance.now();
const say = (line) => console.log(`workload: ${line} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
say(`oneDNN kernels ${instructionSet()}, addon ${addonFile}`);

// Dense and depthwise, 1×1 and 3×3, strides 1 and 2, dilation 2, "same" and unpadded, even and odd
// maps, 3 to 20 channels: forward, input gradient and filter gradient of each.
let calls = 0;
for (const [h, w] of [[8, 8], [9, 7]])
  for (const k of [1, 3])
    for (const stride of [1, 2])
      for (const dilation of k === 1 ? [1] : [1, 2])
        for (const padded of [true, false])
          for (const c of [3, 4, 8, 20])
            for (const [oc, groups] of [[2, 1], [16, 1], [c, c]]) {
              const reach = (k - 1) * dilation + 1;
              const pad = padded ? (reach - 1) >> 1 : 0;
              const [oh, ow] = [h, w].map((size) => Math.floor((size + 2 * pad - reach) / stride) + 1);
              const params = Int32Array.from([2, h, w, c, oh, ow, oc, k, k, groups, stride, stride, dilation, dilation, pad, pad]);
              const x = new Float32Array(2 * h * w * c).fill(0.5);
              const y = new Float32Array(2 * oh * ow * oc).fill(0.25);
              const filter = new Float32Array(k * k * (c / groups) * oc).fill(0.1);
              binding.conv(0, x, filter, y, params);
              binding.conv(1, y, filter, x, params);
              binding.conv(2, x, y, filter, params);
              calls += 3;
            }
say(`${calls} convolution passes`);

const root = await mkdtemp(join(tmpdir(), 'adl-memcheck-'));
try {
  const dataRoot = join(root, 'data');
  await generateSynthetic({ dir: dataRoot, count: { train: 4, val: 2 }, height: 32, width: 48, seed: 3 });
  const quiet = { progress: false, log: () => {} };
  await search({ dataRoot, outDir: join(root, 'search'), epochs: 2, warmupEpochs: 1, stepsPerEpoch: 1, layers: 2, filterMultiplier: 2, crop: 32, valImages: 1, backend: 'onednn' }, quiet);
  say('search: 2 epochs of L = 2');
  // One level down from the stem, with few channels: stride-2 1×1 convolutions on even maps.
  const genotype = [[1, 'sep_conv_3x3'], [0, 'skip_connect'], [2, 'atrous_conv_3x3'], [1, 'avg_pool_3x3'], [3, 'skip_connect'], [0, 'max_pool_3x3'], [4, 'sep_conv_5x5'], [1, 'skip_connect'], [5, 'skip_connect'], [2, 'atrous_conv_5x5']];
  await writeFile(join(root, 'arch.json'), JSON.stringify({ name: 'tiny', path: [0, 1], genotype, filterMultiplier: 2 }));
  await retrain({ dataRoot, outDir: join(root, 'retrain'), architecture: join(root, 'arch.json'), asppChannels: 8, asppRates: [1, 2, 3], iterations: 2, evalEvery: 2, batchSize: 2, crop: 32, backend: 'onednn' }, quiet);
  say('retrain: 2 iterations');
  const { net } = await loadTrainedNet(join(root, 'retrain', 'best'));
  const { metrics } = await evaluateSamples(net, await listSplit(dataRoot, 'val'), { kernels, numClasses: 19, scales: [0.75, 1], flip: true });
  net.dispose();
  say(`evaluate: 2 images, scales 0.75 and 1 with flip, mIoU ${metrics.miou.toFixed(3)}`);
} finally {
  await rm(root, { recursive: true, force: true });
}
