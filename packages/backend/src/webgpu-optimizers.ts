import * as tf from '@tensorflow/tfjs';
import { dispatchGpuKernel, type KernelArgs } from './gpu-dispatch.js';
import { OPTIMIZER_KERNELS } from './optimizer-updates.js';

/**
 * Optimizer updates on webgpu. SGD with momentum updates several variables per dispatch, each
 * variable's new value and velocity written by the same thread: an autodeeplab-s retraining step
 * has 445 variables, which tfjs updates in about ten dispatches each.
 */

type TensorInfo = tf.TensorInfo;

/** Variables per dispatch at most: each takes five storage bindings (value, velocity, gradient in; value, velocity out). */
const MAX_VARIABLES_PER_DISPATCH = 16;
const BINDINGS_PER_VARIABLE = 5;
const THREADS = 64;

function assertFloat(kernelName: string, inputs: TensorInfo[]): void {
  if (inputs.some((t) => t.dtype !== 'float32')) throw new TypeError(`${kernelName} takes float32 tensors`);
}

/** Variables one dispatch may update on this device (its storage-buffer limit per shader stage). */
export function variablesPerDispatch(): number {
  const device = (tf.backend() as unknown as { device: { limits: { maxStorageBuffersPerShaderStage: number } } }).device;
  return Math.max(1, Math.min(MAX_VARIABLES_PER_DISPATCH, Math.floor(device.limits.maxStorageBuffersPerShaderStage / BINDINGS_PER_VARIABLE)));
}

/**
 * Inputs: (value, velocity, gradient) per variable; outputs: (value, velocity) per variable. PyTorch's
 * formula: g ← ∇ + wd·w; v ← μ·v + g; w ← w − lr·v.
 */
export function sgdMomentum({ inputs, attrs }: KernelArgs): TensorInfo[] {
  const all = inputs as unknown as TensorInfo[];
  assertFloat(OPTIMIZER_KERNELS.sgdMomentum, all);
  const { learningRate, momentum, weightDecay } = attrs as Record<string, number>;
  const perDispatch = variablesPerDispatch();
  const outputs: TensorInfo[] = [];
  for (let first = 0; first < all.length / 3; first += perDispatch) {
    const group = all.slice(3 * first, 3 * (first + perDispatch));
    const count = group.length / 3;
    const sizes = Array.from({ length: count }, (_, i) => tf.util.sizeFromShape(group[3 * i].shape));
    const ends = sizes.map((_, i) => sizes.slice(0, i + 1).reduce((a, b) => a + b, 0));
    // Thread t updates element t − start of the variable whose range holds it.
    const branches = Array.from({ length: count }, (_, i) => `${i ? 'else ' : ''}if (thread < u.end${i}) {
        let k = thread - ${i ? `u.end${i - 1}` : '0'};
        let v = u.momentum * V${i}[k] + G${i}[k] + u.weightDecay * X${i}[k];
        out${2 * i}[k] = X${i}[k] - u.learningRate * v;
        out${2 * i + 1}[k] = v;
      }`).join(' ');
    outputs.push(...dispatchGpuKernel({
      name: 'adlSgdMomentum',
      inputs: Array.from({ length: count }, (_, i) => [[`X${i}`, group[3 * i]], [`V${i}`, group[3 * i + 1]], [`G${i}`, group[3 * i + 2]]] as const).flat(),
      outputs: sizes.flatMap((_, i) => [group[3 * i].shape, group[3 * i].shape]),
      uniforms: [
        { name: 'learningRate', type: 'f32', value: learningRate },
        { name: 'momentum', type: 'f32', value: momentum },
        { name: 'weightDecay', type: 'f32', value: weightDecay },
        ...ends.map((value, i) => ({ name: `end${i}`, type: 'i32' as const, value })),
      ],
      threads: THREADS,
      workgroups: Math.ceil(ends[count - 1] / THREADS),
      body: branches,
    }));
  }
  return outputs;
}
