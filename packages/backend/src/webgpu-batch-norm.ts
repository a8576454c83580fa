import * as tf from '@tensorflow/tfjs';
import { AFFINE_BATCH_NORM_KERNELS, BATCH_NORM_KERNELS } from './fused-kernels.js';
import { dispatchGpuKernel, type KernelArgs, type ScalarUniform } from './gpu-dispatch.js';
import { assertFloat, workgroupSumArrays, workgroupTreeSum } from './webgpu-programs.js';

/**
 * Training-mode batch norm on webgpu, without and with a scale and offset, moving the running
 * statistics when given them: one dispatch each way (a workgroup per channel), or for very large maps
 * two (per-channel reductions, then an elementwise pass), where tfjs's ops take about eight forward,
 * twenty backward and four more for the running statistics.
 */

type TensorInfo = tf.TensorInfo;

/** Threads that share one channel's reduction; a power of two. */
const REDUCTION_THREADS = 256;
const ELEMENTWISE_THREADS = 64;
/**
 * Up to this many rows (pixels of the batch) a batch norm runs in one dispatch each way, a workgroup
 * per channel going over its channel three times, each thread at most 4,095 rows in all (1,365 a pass):
 * every batch norm of a 769² retraining step, batch 2. Larger ones take a reduction and an elementwise
 * pass.
 */
const ONE_DISPATCH_ROWS = Math.floor(4096 / 3) * REDUCTION_THREADS;

const size = (shape: readonly number[]) => tf.util.sizeFromShape(shape as number[]);
const rowsOf = (x: TensorInfo) => size(x.shape) / x.shape[x.shape.length - 1];

function layout(x: TensorInfo, epsilon: number): ScalarUniform[] {
  const channels = x.shape[x.shape.length - 1];
  return [
    { name: 'rows', type: 'i32', value: size(x.shape) / channels },
    { name: 'channels', type: 'i32', value: channels },
    { name: 'epsilon', type: 'f32', value: epsilon },
  ];
}

/** The workgroup's sum of each named f32, left in every thread's `<name>` (the arrays stay free for reuse). */
function workgroupSums(names: string[]): string {
  return `${workgroupTreeSum(names, REDUCTION_THREADS)}
    ${names.map((s) => `${s} = shared_${s}[0];`).join(' ')}
    workgroupBarrier();`;
}

const sharedArrays = (names: string[]) => workgroupSumArrays(names, REDUCTION_THREADS);

/**
 * Per-channel mean and biased variance in one dispatch, a workgroup per channel: the mean first, then
 * the squared deviations from it (as the cpu form: a one-pass Σx² − (Σx)² loses the variance to
 * cancellation when the mean is large); with `running`, then the moved running statistics too.
 */
function statistics(x: TensorInfo, epsilon: number, running?: Running): TensorInfo[] {
  const uniforms = layout(x, epsilon);
  const channels = uniforms[1].value;
  return dispatchGpuKernel({
    name: 'adlBnStatistics',
    inputs: [['X', x], ...(running ? ([['RM', running.mean], ['RV', running.variance]] as const) : [])],
    outputs: [[channels], [channels], ...(running ? [[channels], [channels]] : [])],
    uniforms: [...uniforms, ...(running ? runningUniforms(running) : [])],
    threads: REDUCTION_THREADS,
    workgroups: channels,
    loopLength: Math.ceil(uniforms[0].value / REDUCTION_THREADS),
    declarations: sharedArrays(['s']),
    body: `${CHANNEL_STATISTICS}
      if (lane == 0u) {
        out0[w] = m;
        out1[w] = variance;
        ${running ? `out2[w] = ${MOVED_MEAN}; out3[w] = ${MOVED_VARIANCE};` : ''}
      }`,
  });
}

/** Channel `w = group`'s mean `m` and biased variance `variance` of `X`, over the workgroup. */
const CHANNEL_STATISTICS = `
      let w = group;
      var s = 0.0;
      for (var r = i32(lane); r < u.rows; r = r + ${REDUCTION_THREADS}) { s = s + X[r * u.channels + w]; }
      ${workgroupSums(['s'])}
      let m = s / f32(u.rows);
      s = 0.0;
      for (var r = i32(lane); r < u.rows; r = r + ${REDUCTION_THREADS}) { let d = X[r * u.channels + w] - m; s = s + d * d; }
      ${workgroupSums(['s'])}
      let variance = s / f32(u.rows);`;

/**
 * `[y, mean, variance]` of a batch norm small enough for one dispatch (`ONE_DISPATCH_ROWS`), the same
 * values as the two-dispatch form; with `running`, then the moved running mean and variance too.
 */
function normaliseInOneDispatch(x: TensorInfo, epsilon: number, affine?: { scale: TensorInfo; offset: TensorInfo }, running?: Running): TensorInfo[] {
  const uniforms = layout(x, epsilon);
  const channels = uniforms[1].value;
  return dispatchGpuKernel({
    name: affine ? 'adlAffineBnSmall' : 'adlBnSmall',
    inputs: [['X', x], ...(affine ? ([['S', affine.scale], ['O', affine.offset]] as const) : []), ...(running ? ([['RM', running.mean], ['RV', running.variance]] as const) : [])],
    outputs: [x.shape, [channels], [channels], ...(running ? [[channels], [channels]] : [])],
    uniforms: [...uniforms, ...(running ? runningUniforms(running) : [])],
    threads: REDUCTION_THREADS,
    workgroups: channels,
    loopLength: 3 * Math.ceil(uniforms[0].value / REDUCTION_THREADS),
    declarations: sharedArrays(['s']),
    body: `${CHANNEL_STATISTICS}
      let inv = inverseSqrt(variance + u.epsilon);
      for (var r = i32(lane); r < u.rows; r = r + ${REDUCTION_THREADS}) {
        let k = r * u.channels + w;
        let normalised = (X[k] - m) * inv;
        out0[k] = ${affine ? 'normalised * S[w] + O[w]' : 'normalised'};
      }
      if (lane == 0u) {
        out1[w] = m;
        out2[w] = variance;
        ${running ? `out3[w] = ${MOVED_MEAN}; out4[w] = ${MOVED_VARIANCE};` : ''}
      }`,
  });
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

/** Inputs `{ x, runningMean?, runningVariance? }`, attrs `epsilon`, `momentum`, `unbiased`: `[y, mean, variance]`, then the moved running statistics where given. */
export function batchNorm({ inputs, attrs }: KernelArgs): TensorInfo[] {
  const x = (inputs as { x: TensorInfo }).x;
  assertFloat(BATCH_NORM_KERNELS.forward, [x]);
  const epsilon = attrs!.epsilon as number;
  const running = runningOf(inputs, attrs);
  if (rowsOf(x) <= ONE_DISPATCH_ROWS) return normaliseInOneDispatch(x, epsilon, undefined, running);
  const [mean, variance, ...moved] = statistics(x, epsilon, running);
  return [normalise(x, mean, variance, epsilon), mean, variance, ...moved];
}

/** As `batchNorm`, with inputs `scale` and `offset` too. */
export function affineBatchNorm({ inputs, attrs }: KernelArgs): TensorInfo[] {
  const { x, scale, offset } = inputs as Record<'x' | 'scale' | 'offset', TensorInfo>;
  assertFloat(AFFINE_BATCH_NORM_KERNELS.forward, [x, scale, offset]);
  const epsilon = attrs!.epsilon as number;
  const running = runningOf(inputs, attrs);
  if (rowsOf(x) <= ONE_DISPATCH_ROWS) return normaliseInOneDispatch(x, epsilon, { scale, offset }, running);
  const [mean, variance, ...moved] = statistics(x, epsilon, running);
  return [normalise(x, mean, variance, epsilon, { scale, offset }), mean, variance, ...moved];
}

/** The running statistics a forward kernel was given to move (inputs `runningMean`, `runningVariance`; attrs `momentum`, `unbiased`). */
interface Running {
  readonly mean: TensorInfo;
  readonly variance: TensorInfo;
  readonly momentum: number;
  readonly unbiased: number;
}

function runningOf(inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap | undefined): Running | undefined {
  const { runningMean, runningVariance } = inputs as Partial<Record<'runningMean' | 'runningVariance', TensorInfo>>;
  if (!runningMean || !runningVariance) return undefined;
  assertFloat(BATCH_NORM_KERNELS.forward, [runningMean, runningVariance]);
  return { mean: runningMean, variance: runningVariance, momentum: attrs!.momentum as number, unbiased: attrs!.unbiased as number };
}

const runningUniforms = (running: Running): ScalarUniform[] => [
  { name: 'keep', type: 'f32', value: 1 - running.momentum },
  { name: 'momentum', type: 'f32', value: running.momentum },
  { name: 'varianceWeight', type: 'f32', value: running.momentum * running.unbiased },
];
/** The moved running statistics of channel `w` from `RM`, `RV` and the batch's `m`, `variance`. */
const MOVED_MEAN = 'u.keep * RM[w] + u.momentum * m';
const MOVED_VARIANCE = 'u.keep * RV[w] + u.varianceWeight * variance';


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
    body: `${CHANNEL_GRADIENT_SUMS}
      if (lane == 0u) { out0[w] = a; out1[w] = b; }`,
  });
  return [sumDy, sumDyXhat];
}

/** Channel `w = group`'s Σdy (`a`) and Σdy·x̂ (`b`), over the workgroup; `inv` = 1/σ. */
const CHANNEL_GRADIENT_SUMS = `
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
      ${workgroupSums(['a', 'b'])}`;

/** The input's gradient from the sums, for element `k` of channel `w` (as `inputGradient`). */
const INPUT_GRADIENT = (sumDy: string, sumDyXhat: string, scaled: boolean) =>
  `(DY[k] - ${sumDy} / f32(u.rows) - (X[k] - M[w]) * inv * (${sumDyXhat} / f32(u.rows))) * inv${scaled ? ' * S[w]' : ''}`;

/**
 * `[dx, Σdy·x̂, Σdy]` of a batch norm small enough for one dispatch (`ONE_DISPATCH_ROWS`): the same
 * values as the two-dispatch form.
 */
function gradientInOneDispatch(dy: TensorInfo, x: TensorInfo, mean: TensorInfo, variance: TensorInfo, epsilon: number, scale?: TensorInfo): TensorInfo[] {
  const uniforms = layout(x, epsilon);
  const channels = uniforms[1].value;
  return dispatchGpuKernel({
    name: scale ? 'adlAffineBnGradSmall' : 'adlBnGradSmall',
    inputs: [['DY', dy], ['X', x], ['M', mean], ['V', variance], ...(scale ? ([['S', scale]] as const) : [])],
    outputs: [x.shape, [channels], [channels]],
    uniforms,
    threads: REDUCTION_THREADS,
    workgroups: channels,
    loopLength: 2 * Math.ceil(uniforms[0].value / REDUCTION_THREADS),
    declarations: sharedArrays(['a', 'b']),
    body: `${CHANNEL_GRADIENT_SUMS}
      for (var r = i32(lane); r < u.rows; r = r + ${REDUCTION_THREADS}) {
        let k = r * u.channels + w;
        out0[k] = ${INPUT_GRADIENT('a', 'b', Boolean(scale))};
      }
      if (lane == 0u) { out1[w] = b; out2[w] = a; }`,
  });
}

/** dx = scale · (dy − mean(dy) − x̂ · mean(dy·x̂)) / σ (scale 1 without one). */
function inputGradient(dy: TensorInfo, x: TensorInfo, mean: TensorInfo, variance: TensorInfo, sums: [TensorInfo, TensorInfo], epsilon: number, scale?: TensorInfo): TensorInfo {
  return perElement(scale ? 'adlAffineBnGrad' : 'adlBnGrad', x, epsilon,
    [['DY', dy], ['X', x], ['M', mean], ['V', variance], ['SUM_DY', sums[0]], ['SUM_DY_XHAT', sums[1]], ...(scale ? ([['S', scale]] as const) : [])], `
      let k = thread;
      let w = c;
      let inv = inverseSqrt(V[w] + u.epsilon);
      out0[k] = ${INPUT_GRADIENT('SUM_DY[w]', 'SUM_DY_XHAT[w]', Boolean(scale))};`);
}

export function batchNormGrad({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { dy, x, mean, variance } = inputs as Record<'dy' | 'x' | 'mean' | 'variance', TensorInfo>;
  assertFloat(BATCH_NORM_KERNELS.gradient, [dy, x, mean, variance]);
  const epsilon = attrs!.epsilon as number;
  if (rowsOf(x) <= ONE_DISPATCH_ROWS) {
    const [dx, ...sums] = gradientInOneDispatch(dy, x, mean, variance, epsilon);
    for (const s of sums) backend.disposeData(s.dataId);
    return dx;
  }
  const sums = gradientSums(dy, x, mean, variance, epsilon);
  const dx = inputGradient(dy, x, mean, variance, sums, epsilon);
  for (const s of sums) backend.disposeData(s.dataId);
  return dx;
}

/** Outputs `[dx, dScale, dOffset]`: dScale = Σdy·x̂, dOffset = Σdy. */
export function affineBatchNormGrad({ inputs, attrs }: KernelArgs): TensorInfo[] {
  const { dy, x, mean, variance, scale } = inputs as Record<'dy' | 'x' | 'mean' | 'variance' | 'scale', TensorInfo>;
  assertFloat(AFFINE_BATCH_NORM_KERNELS.gradient, [dy, x, mean, variance, scale]);
  const epsilon = attrs!.epsilon as number;
  if (rowsOf(x) <= ONE_DISPATCH_ROWS) return gradientInOneDispatch(dy, x, mean, variance, epsilon, scale);
  const [sumDy, sumDyXhat] = gradientSums(dy, x, mean, variance, epsilon);
  return [inputGradient(dy, x, mean, variance, [sumDy, sumDyXhat], epsilon, scale), sumDyXhat, sumDy];
}
