// Loader throughput: images/s of 321×321 (or --crop) training crops (decode 2048×1024 PNGs, map labels, random
// scale 0.5–2, crop, flip, normalise), alone and while the main thread is busy with a stand-in for a
// training step, to show how much of the loading prefetch hides behind compute.
//
//   node bench/loader-throughput.mjs [--images 8] [--batches 12] [--step-ms 1500] [--crop 769]
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BatchLoader, DEFAULT_AUGMENT, generateSynthetic, listSplit } from '../dist/index.js';

const { values: args } = parseArgs({
  options: { images: { type: 'string', default: '8' }, batches: { type: 'string', default: '12' }, 'step-ms': { type: 'string', default: '1500' }, crop: { type: 'string', default: '321' } },
});
const [images, batches, stepMs, crop] = [args.images, args.batches, args['step-ms'], args.crop].map(Number);
const dir = mkdtempSync(join(tmpdir(), 'adl-loader-bench-'));
await generateSynthetic({ dir, count: images, height: 1024, width: 2048, seed: 2 });
const samples = await listSplit(dir, 'train');
const batchSize = 2;
const epochs = Math.ceil(batches / Math.floor(images / batchSize));

/** Busy-waits, as a synchronous tfjs training step occupies the JavaScript thread. */
const compute = (ms) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

async function run(step, prefetch) {
  const loader = new BatchLoader({ samples, batchSize, seed: 1, prefetch, augment: { ...DEFAULT_AUGMENT, crop: [crop, crop] } });
  let waited = 0;
  let count = 0;
  const start = performance.now();
  let requested = performance.now();
  for await (const batch of loader.batches(epochs)) {
    waited += performance.now() - requested;
    count += batch.size;
    if (count >= batches * batchSize) break;
    compute(step);
    requested = performance.now();
  }
  return { seconds: (performance.now() - start) / 1000, waited: waited / 1000, count };
}

const alone = await run(0, 2);
console.log(`\nLoader alone: ${(alone.count / alone.seconds).toFixed(2)} images/s (${alone.count} crops of ${crop}×${crop} from 2048×1024 PNGs, ${alone.seconds.toFixed(1)} s)`);
for (const prefetch of [0, 2]) {
  const busy = await run(stepMs, prefetch);
  const loading = (busy.count / batchSize) * (alone.seconds / (alone.count / batchSize));
  console.log(
    `With a ${stepMs} ms step per batch of ${batchSize}, prefetch ${prefetch}: waited ${busy.waited.toFixed(1)} s for data in ${busy.seconds.toFixed(1)} s; ` +
      `hidden ${Math.max(0, 100 * (1 - busy.waited / loading)).toFixed(0)}% of the ${loading.toFixed(1)} s of loading`,
  );
}
