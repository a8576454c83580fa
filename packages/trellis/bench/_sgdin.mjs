import * as tf from '@tensorflow/tfjs';
import { Rng, selectBackend } from '@adl/backend';
import { crossEntropyIgnoring } from '@adl/ops';
import { FixedNet, getPreset } from '../dist/index.js';
import { sgd } from './reference-optimizers.mjs';
await import('@adl/onednn');
const size = 129, batch = 2, numClasses = 19;
const { kernels } = await selectBackend({ log: null });
const net = new FixedNet({ architecture: getPreset('autodeeplab-s'), numClasses, recompute: true });
const rng = new Rng(1);
const image = tf.tensor4d(rng.normalArray(batch * size * size * 3), [batch, size, size, 3]);
const labels = tf.tensor3d(Int32Array.from({ length: batch * size * size }, () => Math.floor(rng.next() * numClasses)), [batch, size, size], 'int32');
const optimizer = sgd(net.trainableVariables(), { learningRate: 0.05, momentum: 0.9, weightDecay: 4e-5 });
const ctx = { training: true, kernels };
const eng = tf.engine(); const orig = eng.runKernel.bind(eng); let sgdMs = 0;
eng.runKernel = (name, ...a) => { const t = performance.now(); try { return orig(name, ...a); } finally { if (name.includes('Sgd')) sgdMs += performance.now() - t; } };
for (let i = 0; i < 8; i++) { globalThis.__sgd = { ms: 0, n: 0 }; sgdMs = 0; const t = performance.now(); const v = optimizer.minimize(() => crossEntropyIgnoring(net.apply(image, ctx), labels)); await v.data(); v.dispose(); console.log('step', (performance.now() - t).toFixed(0), 'sgd kernel', sgdMs.toFixed(1), 'binding', globalThis.__sgd.ms.toFixed(1), 'calls', globalThis.__sgd.n); }
