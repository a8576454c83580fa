import { generateSynthetic } from '@adl/data-cityscapes';
import { retrain } from '@adl/search';
const root = '/tmp/rt-data';
await generateSynthetic({ dir: root, count: { train: 16, val: 4 }, height: 96, width: 192, seed: 5 });
const t = Date.now();
const r = await retrain({ dataRoot: root, outDir: '/tmp/rt-out', architecture: 'autodeeplab-s', filterMultiplier: 4, iterations: Number(process.argv[2] ?? 150), batchSize: 4, crop: 64, lr: 0.05, evalEvery: 50, valImages: 4, asppChannels: 32, backend: 'wasm', scale: [0.75, 1.25] }, { progress: true });
console.log((Date.now() - t) / 1000, 's');
for (const rec of r.records) console.log(rec.iteration, rec.trainLoss.toFixed(3), rec.valMiou.toFixed(3), rec.valPixelAccuracy.toFixed(3));
