import * as tf from '@tensorflow/tfjs';
import { Rng, selectBackend } from '@adl/backend';
import { FixedNet, getPreset } from '../dist/index.js';
import { sgd } from './reference-optimizers.mjs';
await import('@adl/onednn');
const size = Number(process.env.SIZE ?? 129), batch = 2, numClasses = 19;
const { kernels } = await selectBackend({ log: null });
const net = new FixedNet({ architecture: getPreset('autodeeplab-s'), numClasses, recompute: process.env.KEEP ? false : true });
const rng = new Rng(1);
const image = tf.tensor4d(rng.normalArray(batch * size * size * 3), [batch, size, size, 3]);
const labels = tf.oneHot(tf.tensor1d(Int32Array.from({ length: batch * size * size }, () => Math.floor(rng.next() * numClasses)), 'int32'), numClasses);
const optimizer = sgd(net.trainableVariables(), { learningRate: 0.05, momentum: 0.9, weightDecay: 4e-5 });
const ctx = { training: true, kernels };
const step = async () => { const v = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(labels, tf.reshape(net.apply(image, ctx), [-1, numClasses]))); await v.data(); v.dispose(); };
for (let i = 0; i < 6; i++) { const before = { ...(globalThis.__ps ?? {}) }; const t = performance.now(); await step(); const ms = performance.now() - t; const s = globalThis.__ps; console.log(i, ms.toFixed(0), 'ms', Object.fromEntries(Object.entries(s).map(([k, v]) => [k, k.endsWith('Bytes') ? ((v - (before[k] ?? 0)) / 1e6).toFixed(1) + 'MB' : v - (before[k] ?? 0)]))); }
