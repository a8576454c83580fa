import * as tf from '@tensorflow/tfjs';
import { AFFINE_BATCH_NORM_KERNELS, BATCH_NORM_KERNELS } from './fused-kernels.js';
import { dispatchGpuKernel, type KernelArgs, type ScalarUniform } from './gpu-dispatch.js';

/**
 * Training-mode batch norm on webgpu, without and with a scale and offset: two dispatches each way
 * (per-channel reductions, then one elementwise pass), where tfjs's ops take about eight forward
 * and twenty backward.
 */

type TensorInfo = tf.TensorInfo;

/** Threads that share one channel's reduction; a power of two. */
const REDUCTION_THREADS = 256;
const ELEMENTWISE_THREADS = 64;

function float(kernelName: string, tensors: TensorInfo[]): void {
  if (tensors.some((t) => t.dtype !== 'float32')) throw new TypeError(`${kernelName} takes float32 tensors`);
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function layout(x: TensorInfo, epsilon: number): ScalarUniform[] {
  const channels = x.shape[x.shape.length - 1];
  return [
    { name: 'rows', type: 'i32', value: size(x.shape) / channels },
    { name: 'channels', type: 'i32', value: channels },
    { name: 'epsilon', type: 'f32', value: epsilon },
  ];
}

/** A tree sum over the workgroup of each named f32 (in `shared_<name>`), leaving it in every thread's `<name>`. */
function workgroupSums(names: string[]): string {
  return `
    ${names.map((s) => `shared_${s}[lane] = ${s};`).join(' ')}
    workgroupBarrier();
    for (var stride = ${REDUCTION_THREADS / 2}u; stride > 0u; stride = stride >> 1u) {
      if (lane < stride) { ${names.map((s) => `shared_${s}[lane] = shared_${s}[lane] + shared_${s}[lane + stride];`).join(' ')} }
      workgroupBarrier();
    }
    ${names.map((s) => `${s} = shared_${s}[0];`).join(' ')}
    workgroupBarrier();`;
}

const sharedArrays = (names: string[]) => names.map((s) => `var<workgroup> shared_${s} : array<f32, ${REDUCTION_THREADS}>;`).join('\n');

/**
 * Per-channel mean and biased variance in one dispatch, a workgroup per channel: the mean first, then
 * the squared deviations from it (as the cpu form: a one-pass Σx² − (Σx)² loses the variance to
 * cancellation when the mean is large).
 */
function statistics(x: TensorInfo, epsilon: number): [TensorInfo, TensorInfo] {
  const uniforms = layout(x, epsilon);
  const channels = uniforms[1].value;
  const [mean, variance] = dispatchGpuKernel({
    name: 'adlBnStatistics',
    inputs: [['X', x]],
    outputs: [[channels], [channels]],
    uniforms,
    threads: REDUCTION_THREADS,
    workgroups: channels,
    loopLength: Math.ceil(uniforms[0].value / REDUCTION_THREADS),
    declarations: sharedArrays(['s']),
    body: `
      let w = group;
      var s = 0.0;
      for (var r = i32(lane); r < u.rows; r = r + ${REDUCTION_THREADS}) { s = s + X[r * u.channels + w]; }
      ${workgroupSums(['s'])}
      let m = s / f32(u.rows);
      s = 0.0;
      for (var r = i32(lane); r < u.rows; r = r + ${REDUCTION_THREADS}) { let d = X[r * u.channels + w] - m; s = s + d * d; }
      ${workgroupSums(['s'])}
      if (lane == 0u) { out0[w] = m; out1[w] = s / f32(u.rows); }`,
  });
  return [mean, variance];
}

/** One thread per element of `x` (its channel `c`) writing `out0[thread]`: `body`. */
function perElement(name: string, x: TensorInfo, epsilon: number, inputs: readonly (readonly [string, TensorInfo])[], body: string): TensorInfo {
  const count = size(x.shape);
  const [y] = dispatchGpuKernel({
    name,
    inputs,
    outputs: [x.shape],
    uniforms: [...layout(x, epsilon), { name: 'count', type: 'i32', value: count }],
    threads: ELEMENTWISE_THREADS,
    workgroups: Math.ceil(count / ELEMENTWISE_THREADS),
    body: `
      if (thread >= u.count) { return; }
      let c = thread % u.channels;
      ${body}`,
  });
  return y;
}

/** `(x − mean) / √(variance + ε)`, times scale plus offset where given. */
function normalise(x: TensorInfo, mean: TensorInfo, variance: TensorInfo, epsilon: number, affine?: { scale: TensorInfo; offset: TensorInfo }): TensorInfo {
  return perElement(affine ? 'adlAffineBnNormalise' : 'adlBnNormalise', x, epsilon,
    [['X', x], ['M', mean], ['V', variance], ...(affine ? ([['S', affine.scale], ['O', affine.offset]] as const) : [])], `
      let normalised = (X[thread] - M[c]) * inverseSqrt(V[c] + u.epsilon);
      out0[thread] = ${affine ? 'normalised * S[c] + O[c]' : 'normalised'};`);
}

export function batchNorm({ inputs, attrs }: KernelArgs): TensorInfo[] {
  const x = (inputs as { x: TensorInfo }).x;
  float(BATCH_NORM_KERNELS.forward, [x]);
  const epsilon = attrs!.epsilon as number;
  const [mean, variance] = statistics(x, epsilon);
  return [normalise(x, mean, variance, epsilon), mean, variance];
}

export function affineBatchNorm({ inputs, attrs }: KernelArgs): TensorInfo[] {
  const { x, scale, offset } = inputs as Record<'x' | 'scale' | 'offset', TensorInfo>;
  float(AFFINE_BATCH_NORM_KERNELS.forward, [x, scale, offset]);
  const epsilon = attrs!.epsilon as number;
  const [mean, variance] = statistics(x, epsilon);
  return [normalise(x, mean, variance, epsilon, { scale, offset }), mean, variance];
}

/**
 * Per channel, Σdy and Σdy·x̂ (x̂ = (x − μ)/σ) in one dispatch: the offset's and the scale's gradients,
 * and what the input's gradient needs.
 */
function gradientSums(dy: TensorInfo, x: TensorInfo, mean: TensorInfo, variance: TensorInfo, epsilon: number): [TensorInfo, TensorInfo] {
  const uniforms = layout(x, epsilon);
  const [sumDy, sumDyXhat] = dispatchGpuKernel({
    name: 'adlBnGradSums',
    inputs: [['DY', dy], ['X', x], ['M', mean], ['V', variance]],
    outputs: [[uniforms[1].value], [uniforms[1].value]],
    uniforms,
    threads: REDUCTION_THREADS,
    workgroups: uniforms[1].value,
    loopLength: Math.ceil(uniforms[0].value / REDUCTION_THREADS),
    declarations: sharedArrays(['a', 'b']),
    body: `
      let w = group;
      let inv = inverseSqrt(V[w] + u.epsilon);
      var a = 0.0;
      var b = 0.0;
      for (var r = i32(lane); r < u.rows; r = r + ${REDUCTION_THREADS}) {
        let k = r * u.channels + w;
        let g = DY[k];
        a = a + g;
        b = b + g * (X[k] - M[w]) * inv;
      }
      ${workgroupSums(['a', 'b'])}
      if (lane == 0u) { out0[w] = a; out1[w] = b; }`,
  });
  return [sumDy, sumDyXhat];
}

/** dx = scale · (dy − mean(dy) − x̂ · mean(dy·x̂)) / σ (scale 1 without one). */
function inputGradient(dy: TensorInfo, x: TensorInfo, mean: TensorInfo, variance: TensorInfo, sums: [TensorInfo, TensorInfo], epsilon: number, scale?: TensorInfo): TensorInfo {
  return perElement(scale ? 'adlAffineBnGrad' : 'adlBnGrad', x, epsilon,
    [['DY', dy], ['X', x], ['M', mean], ['V', variance], ['SUM_DY', sums[0]], ['SUM_DY_XHAT', sums[1]], ...(scale ? ([['S', scale]] as const) : [])], `
      let inv = inverseSqrt(V[c] + u.epsilon);
      let n = f32(u.rows);
      let g = (DY[thread] - SUM_DY[c] / n - (X[thread] - M[c]) * inv * (SUM_DY_XHAT[c] / n)) * inv;
      out0[thread] = ${scale ? 'g * S[c]' : 'g'};`);
}

export function batchNormGrad({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { dy, x, mean, variance } = inputs as Record<'dy' | 'x' | 'mean' | 'variance', TensorInfo>;
  float(BATCH_NORM_KERNELS.gradient, [dy, x, mean, variance]);
  const epsilon = attrs!.epsilon as number;
  const sums = gradientSums(dy, x, mean, variance, epsilon);
  const dx = inputGradient(dy, x, mean, variance, sums, epsilon);
  for (const s of sums) backend.disposeData(s.dataId);
  return dx;
}

/** Outputs `[dx, dScale, dOffset]`: dScale = Σdy·x̂, dOffset = Σdy. */
export function affineBatchNormGrad({ inputs, attrs }: KernelArgs): TensorInfo[] {
  const { dy, x, mean, variance, scale } = inputs as Record<'dy' | 'x' | 'mean' | 'variance' | 'scale', TensorInfo>;
  float(AFFINE_BATCH_NORM_KERNELS.gradient, [dy, x, mean, variance, scale]);
  const epsilon = attrs!.epsilon as number;
  const [sumDy, sumDyXhat] = gradientSums(dy, x, mean, variance, epsilon);
  return [inputGradient(dy, x, mean, variance, [sumDy, sumDyXhat], epsilon, scale), sumDyXhat, sumDy];
}

/**
 * `RUNNING_STATISTICS_KERNEL`: inputs `{ runningMean, runningVariance, mean, variance }`, attrs
 * `momentum`, `unbiased`; outputs the new running mean and variance, from one dispatch.
 */
export const RUNNING_STATISTICS_KERNEL = 'AdlRunningStatistics';

export function runningStatistics({ inputs, attrs }: KernelArgs): TensorInfo[] {
  const { runningMean, runningVariance, mean, variance } = inputs as Record<'runningMean' | 'runningVariance' | 'mean' | 'variance', TensorInfo>;
  float(RUNNING_STATISTICS_KERNEL, [runningMean, runningVariance, mean, variance]);
  const channels = size(mean.shape);
  const { momentum, unbiased } = attrs as { momentum: number; unbiased: number };
  return dispatchGpuKernel({
    name: 'adlRunningStatistics',
    inputs: [['RM', runningMean], ['RV', runningVariance], ['M', mean], ['V', variance]],
    outputs: [mean.shape, variance.shape],
    uniforms: [
      { name: 'channels', type: 'i32', value: channels },
      { name: 'keep', type: 'f32', value: 1 - momentum },
      { name: 'momentum', type: 'f32', value: momentum },
      { name: 'varianceWeight', type: 'f32', value: momentum * unbiased },
    ],
    threads: ELEMENTWISE_THREADS,
    workgroups: Math.ceil(channels / ELEMENTWISE_THREADS),
    body: `
      if (thread >= u.channels) { return; }
      out0[thread] = u.keep * RM[thread] + u.momentum * M[thread];
      out1[thread] = u.keep * RV[thread] + u.varianceWeight * V[thread];`,
  });
}
