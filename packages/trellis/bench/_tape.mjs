import * as tf from '@tensorflow/tfjs';
import { Rng, selectBackend } from '@adl/backend';
import { FixedNet, getPreset } from '../dist/index.js';
import { sgd } from './reference-optimizers.mjs';
await import('@adl/onednn');
const size = 129, batch = 2, numClasses = 19;
const { kernels } = await selectBackend({ log: null });
const net = new FixedNet({ architecture: getPreset('autodeeplab-s'), numClasses, recompute: true });
const rng = new Rng(1);
const image = tf.tensor4d(rng.normalArray(batch * size * size * 3), [batch, size, size, 3]);
const labels = tf.oneHot(tf.tensor1d(Int32Array.from({ length: batch * size * size }, () => Math.floor(rng.next() * numClasses)), 'int32'), numClasses);
const optimizer = sgd(net.trainableVariables(), { learningRate: 0.05, momentum: 0.9, weightDecay: 4e-5 });
const ctx = { training: true, kernels };
const eng = tf.engine(); const orig = eng.gradients.bind(eng);
eng.gradients = (f, xs, dy, allow) => {
  let tape;
  const g = orig(() => { const y = f(); tape = eng.state.activeTape; return y; }, xs, dy, allow);
  const X = new Set(xs.map((x) => x.id)); let checks = 0, nonXInputs = 0, nodes = tape.length;
  for (const node of tape) { for (const k in node.inputs) { const inp = node.inputs[k]; if (X.has(inp.id)) { node.outputs.forEach((o) => X.add(o.id)); break; } nonXInputs++; checks += xs.length; (globalThis.names ??= new Map()).set(node.kernelName + ':' + k, (globalThis.names.get(node.kernelName + ':' + k) ?? 0) + 1); } }
  console.log('tape nodes', nodes, 'xs', xs.length, 'non-X inputs scanned', nonXInputs, 'dictionary checks', checks);
  return g;
};
const step = async () => { const v = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(labels, tf.reshape(net.apply(image, ctx), [-1, numClasses]))); await v.data(); v.dispose(); };
await step(); console.log([...globalThis.names].sort((a,b)=>b[1]-a[1]).slice(0,15));
