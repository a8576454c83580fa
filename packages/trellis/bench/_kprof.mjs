import * as tf from '@tensorflow/tfjs';
import { Rng, selectBackend } from '@adl/backend';
import { FixedNet, getPreset } from '../dist/index.js';
import { sgd } from './reference-optimizers.mjs';
import { crossEntropyIgnoring } from '@adl/ops';
await import('@adl/onednn');
const size = Number(process.env.SIZE ?? 129), batch = 2, numClasses = 19;
const { kernels } = await selectBackend({ log: null });
const net = new FixedNet({ architecture: getPreset('autodeeplab-s'), numClasses, recompute: process.env.KEEP ? false : true });
const rng = new Rng(1);
const image = tf.tensor4d(rng.normalArray(batch * size * size * 3), [batch, size, size, 3]);
const labels = tf.tensor3d(Int32Array.from({ length: batch * size * size }, () => Math.floor(rng.next() * numClasses)), [batch, size, size], 'int32');
const optimizer = sgd(net.trainableVariables(), { learningRate: 0.05, momentum: 0.9, weightDecay: 4e-5 });
const ctx = { training: true, kernels };
const stats = new Map(); let depth = 0; let on = false;
const eng = tf.engine(); const orig = eng.runKernel.bind(eng);
eng.runKernel = (name, ...a) => { if (!on) return orig(name, ...a); depth++; const t = performance.now(); try { return orig(name, ...a); } finally { const dt = performance.now() - t; depth--; const s = stats.get(name) ?? { n: 0, ms: 0, top: 0 }; s.n++; if (depth === 0) s.top += dt; stats.set(name, s); } };
const step = async () => { const v = optimizer.minimize(() => crossEntropyIgnoring(net.apply(image, ctx), labels)); await v.data(); v.dispose(); };
await step(); await step();
on = true; const t = performance.now(); const S = Number(process.env.S ?? 5); for (let i = 0; i < S; i++) await step(); const total = (performance.now() - t) / S; on = false; for (const s of stats.values()) { s.n /= S; s.top /= S; }
const rows = [...stats].sort((a, b) => b[1].top - a[1].top);
let n = 0, k = 0; for (const [, s] of rows) { n += s.n; k += s.top; }
console.log('step', total.toFixed(0), 'ms; kernel calls', n, 'top-level kernel ms', k.toFixed(0));
for (const [name, s] of rows.slice(0, 60)) console.log(name.padEnd(28), String(s.n).padStart(6), s.top.toFixed(1).padStart(8), (1000 * s.top / s.n).toFixed(1).padStart(8), 'µs/call');
