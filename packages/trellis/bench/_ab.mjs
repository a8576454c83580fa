import * as tf from '@tensorflow/tfjs';
import { Rng, selectBackend } from '@adl/backend';
import { FixedNet, getPreset } from '../dist/index.js';
import { sgd } from './reference-optimizers.mjs';
await import('@adl/onednn');
const size = Number(process.env.SIZE ?? 129), batch = 2, numClasses = 19;
const { kernels } = await selectBackend({ log: null });
const rng = new Rng(1);
const image = tf.tensor4d(rng.normalArray(batch * size * size * 3), [batch, size, size, 3]);
const labels = tf.oneHot(tf.tensor1d(Int32Array.from({ length: batch * size * size }, () => Math.floor(rng.next() * numClasses)), 'int32'), numClasses);
const ctx = { training: true, kernels };
const make = (recompute) => { const net = new FixedNet({ architecture: getPreset('autodeeplab-s'), numClasses, recompute }); const opt = sgd(net.trainableVariables(), { learningRate: 0.05, momentum: 0.9, weightDecay: 4e-5 });
  return async () => { const v = opt.minimize(() => tf.losses.softmaxCrossEntropy(labels, tf.reshape(net.apply(image, ctx), [-1, numClasses]))); await v.data(); v.dispose(); }; };
const variants = { recompute: make(true), keep: make(false) };
const times = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
for (let i = 0; i < 3; i++) for (const f of Object.values(variants)) await f();
for (let i = 0; i < Number(process.env.N ?? 15); i++) for (const [k, f] of Object.entries(variants)) { const t = performance.now(); await f(); times[k].push(performance.now() - t); }
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
for (const [k, a] of Object.entries(times)) console.log(k, 'median', med(a).toFixed(0), 'mean', (a.reduce((x, y) => x + y) / a.length).toFixed(0));
