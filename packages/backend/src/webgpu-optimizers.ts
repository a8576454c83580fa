import * as tf from '@tensorflow/tfjs';
import { dispatchGpuKernel, tensorsPerDispatch, type KernelArgs } from './gpu-dispatch.js';
import { assertFloat } from './webgpu-programs.js';
import { OPTIMIZER_KERNELS } from './optimizer-updates.js';

/**
 * Optimizer updates on webgpu. SGD with momentum updates several variables per dispatch, each
 * variable's new value and velocity written by the same thread (where tfjs takes about ten dispatches
 * per variable, and an autodeeplab-s retraining step has 890 variables).
 */

type TensorInfo = tf.TensorInfo;

const THREADS = 64;

/**
 * Inputs: (value, velocity, gradient) per variable; outputs: (value, velocity) per variable. PyTorch's
 * formula: g ← ∇ + wd·w; v ← μ·v + g; w ← w − lr·v.
 */
export function sgdMomentum({ inputs, backend, attrs }: KernelArgs): TensorInfo[] {
  const all = inputs as unknown as TensorInfo[];
  assertFloat(OPTIMIZER_KERNELS.sgdMomentum, all);
  const hyper = attrs as Record<'learningRate' | 'momentum' | 'weightDecay', number>;
  const variables = Array.from({ length: all.length / 3 }, (_, i) => all.slice(3 * i, 3 * i + 3) as Variable);
  // A value and velocity that nothing else holds (the usual case: a variable and its optimizer state)
  // are updated in their own buffers, which takes 3 bindings instead of 5; the outputs share their data.
  const inPlace = variables.map(([value, velocity]) => backend.refCount(value.dataId) === 1 && backend.refCount(velocity.dataId) === 1);
  const outputs: TensorInfo[] = new Array(2 * variables.length);
  for (const updateInPlace of [true, false]) {
    const indices = variables.map((_, i) => i).filter((i) => inPlace[i] === updateInPlace);
    const perDispatch = tensorsPerDispatch(updateInPlace ? 3 : 5);
    for (let first = 0; first < indices.length; first += perDispatch) {
      const group = indices.slice(first, first + perDispatch);
      const written = updateGroup(group.map((i) => variables[i]), updateInPlace, hyper);
      group.forEach((i, k) => {
        const [value, velocity] = variables[i];
        outputs[2 * i] = updateInPlace ? sharing(backend, value) : written[2 * k];
        outputs[2 * i + 1] = updateInPlace ? sharing(backend, velocity) : written[2 * k + 1];
      });
    }
  }
  return outputs;
}

type Variable = [value: TensorInfo, velocity: TensorInfo, gradient: TensorInfo];

/** One dispatch updating `group`, in place (returns nothing) or into new (value, velocity) outputs. */
function updateGroup(group: Variable[], inPlace: boolean, { learningRate, momentum, weightDecay }: Record<'learningRate' | 'momentum' | 'weightDecay', number>): TensorInfo[] {
  const sizes = group.map(([value]) => tf.util.sizeFromShape(value.shape));
  const ends = sizes.map((_, i) => sizes.slice(0, i + 1).reduce((a, b) => a + b, 0));
  // Thread t updates element t − start of the variable whose range holds it.
  const branches = group.map((_, i) => `${i ? 'else ' : ''}if (thread < u.end${i}) {
        let k = thread - ${i ? `u.end${i - 1}` : '0'};
        let v = u.momentum * V${i}[k] + G${i}[k] + u.weightDecay * X${i}[k];
        ${inPlace ? `X${i}[k] = X${i}[k] - u.learningRate * v; V${i}[k] = v;` : `out${2 * i}[k] = X${i}[k] - u.learningRate * v; out${2 * i + 1}[k] = v;`}
      }`).join(' ');
  const named = group.map(([value, velocity, gradient], i) => [[`X${i}`, value], [`V${i}`, velocity], [`G${i}`, gradient]] as const);
  return dispatchGpuKernel({
    name: 'adlSgdMomentum',
    inputs: inPlace ? named.map(([, , g]) => g) : named.flat(),
    updates: inPlace ? named.flatMap(([x, v]) => [x, v]) : [],
    outputs: inPlace ? [] : group.flatMap(([value]) => [value.shape, value.shape]),
    uniforms: [
      { name: 'learningRate', type: 'f32', value: learningRate },
      { name: 'momentum', type: 'f32', value: momentum },
      { name: 'weightDecay', type: 'f32', value: weightDecay },
      ...ends.map((value, i) => ({ name: `end${i}`, type: 'i32' as const, value })),
    ],
    threads: THREADS,
    workgroups: Math.ceil(ends[ends.length - 1] / THREADS),
    body: branches,
  });
}

/** An output that is `tensor`'s data, shared (as tfjs's Identity kernel shares it). */
function sharing(backend: tf.KernelBackend, tensor: TensorInfo): TensorInfo {
  backend.incRef(tensor.dataId);
  return { dataId: tensor.dataId, shape: tensor.shape, dtype: tensor.dtype };
}
