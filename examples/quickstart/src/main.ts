// Quickstart: pick a backend, train one mixed op (the unit of the cell search space) for a few
// steps, then decode a random α / β into a cell genotype and a network path, written to
// runs/quickstart/architecture.json.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { MixedOp } from '@adl/cell';
import { decodeCell, decodePath, pathStrides } from '@adl/decode';
import { PRIMITIVES, Rng, selectBackend } from '@adl/ops';

const outDir = process.env.ADL_OUT ?? join(process.cwd(), 'runs', 'quickstart');
const { kernels, backend } = await selectBackend();
const ctx = { training: true, kernels };
const rng = new Rng(0);

// A mixed op on [2, 24, 24, 16] learning to reproduce a 3×3 average of its input: α should move
// towards avg_pool_3x3.
const [batch, size, channels] = [2, 24, 16];
const mixed = new MixedOp(channels, rng);
const alpha = tf.variable(tf.zeros([PRIMITIVES.length]), true, 'quickstart/alpha');
const input = tf.tensor4d(rng.normalArray(batch * size * size * channels), [batch, size, size, channels]);
const target = tf.tidy(() => tf.avgPool(input, 3, 1, 'same'));
const weightOptimizer = tf.train.momentum(0.025, 0.9);
const alphaOptimizer = tf.train.adam(3e-3 * 10);

const loss = () => tf.tidy(() => tf.losses.meanSquaredError(target, mixed.apply(input, tf.softmax(alpha) as tf.Tensor1D, ctx)) as tf.Scalar);
const started = performance.now();
for (let step = 1; step <= 20; step++) {
  weightOptimizer.minimize(loss, false, mixed.trainableVariables());
  const value = alphaOptimizer.minimize(loss, true, [alpha])!;
  if (step % 5 === 0) console.log(`step ${step}: loss ${(await value.data())[0].toFixed(4)}`);
  value.dispose();
}
const weights = Array.from(await tf.softmax(alpha).data());
console.log(`20 steps on ${backend} in ${((performance.now() - started) / 1000).toFixed(1)} s; softmax(α):`);
console.table(Object.fromEntries(PRIMITIVES.map((name, k) => [name, +weights[k].toFixed(3)])));

// Decoding needs plain numbers only: a random α [20, 8] and β [12, 4, 3].
const alphas = Array.from({ length: 20 }, () => Array.from(rng.normalArray(PRIMITIVES.length)));
const betas = Array.from({ length: 12 }, () => Array.from({ length: 4 }, () => Array.from(rng.normalArray(3))));
const genotype = decodeCell(alphas, { blocks: 5, ops: PRIMITIVES });
const { path, logProb } = decodePath(betas);
console.log('genotype:', genotype.map(([input, op]) => `${input}:${op}`).join(' '));
console.log(`path (levels): [${path.join(', ')}], strides [${pathStrides(path).join(', ')}], log-prob ${logProb.toFixed(3)}`);

mkdirSync(outDir, { recursive: true });
const file = join(outDir, 'architecture.json');
writeFileSync(`${file}.tmp`, `${JSON.stringify({ genotype, path, logProb }, null, 2)}\n`);
renameSync(`${file}.tmp`, file);
console.log(`wrote ${file}`);

tf.dispose([alpha, input, target]);
mixed.dispose();
