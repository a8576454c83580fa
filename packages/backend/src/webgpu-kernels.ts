import * as tf from '@tensorflow/tfjs';
import { normaliseWithElementwiseOps } from './batch-statistics.js';
import { BATCH_NORM_KERNELS, POOL_KERNELS, registerFusedGradients, WEIGHTED_SUM_KERNELS, weightedSumInputs } from './fused-kernels.js';
import { registerKernelSet } from './kernel-sets.js';
import type { Kernels } from './kernels.js';
import { OPTIMIZER_KERNELS } from './optimizer-updates.js';
import { stockKernels } from './stock-kernels.js';
import { weightedSumOfElementwiseOps } from './weighted-sum.js';

/**
 * WGSL kernels for the webgpu backend: what tfjs runs as many small dispatches (training-mode batch
 * norm ~8 forward and ~20 backward, a mixed op's weighted sum 2 per term, an optimizer update 5–10 per
 * variable) runs as one to three. On a GPU each dispatch has a fixed cost of microseconds, and an
 * Auto-DeepLab search step makes hundreds of thousands of them.
 *
 * Programs follow tfjs-backend-webgpu's `WebGPUProgram` shape (it declares `result`, one
 * `array<f32>` per input named as in `variableNames`, and a `uniforms` struct with each input's
 * shape and the program's own fields) and run through the backend's `runWebGPUProgram`.
 */
interface WgslProgram {
  readonly outputShape: number[];
  readonly shaderKey: string;
  readonly variableNames: string[];
  readonly workgroupSize: [number, number, number];
  readonly dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  readonly size: boolean;
  readonly uniforms?: string;
  getUserCode(): string;
}

type Uniform = { type: 'float32' | 'int32'; data: number[] };
type TensorInfo = tf.TensorInfo;
type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap };

const ELEMENTWISE_WORKGROUP = 64;
/** Threads that share one channel's (or one term's) reduction; a power of two. */
const REDUCTION_WORKGROUP = 256;

/** A program over `outputShape` in `workgroups` workgroups of `threads` threads, running `main`. */
function program(shaderKey: string, outputShape: number[], variableNames: string[], threads: number, workgroups: number, main: string, uniforms?: string): WgslProgram {
  return {
    outputShape,
    shaderKey,
    variableNames,
    uniforms,
    size: true,
    workgroupSize: [threads, 1, 1],
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [workgroups, 1, 1],
    getUserCode: () => main,
  };
}

/** One thread per output element: `body` sets `result[index]`. */
function elementwise(shaderKey: string, outputShape: number[], variableNames: string[], body: string, uniforms?: string): WgslProgram {
  const size = outputShape.reduce((a, b) => a * b, 1);
  const main = `
      fn main(index : i32) {
        if (index < uniforms.size) {
          ${body}
        }
      }`;
  return program(shaderKey, outputShape, variableNames, ELEMENTWISE_WORKGROUP, Math.ceil(size / ELEMENTWISE_WORKGROUP), main, uniforms);
}

/**
 * One workgroup per output element `w` (a channel, a term): `accumulate` adds to the `f32` variables
 * named in `sums` for row `r`; the sums are reduced over the workgroup and `finish` writes `result`.
 */
function reduction(shaderKey: string, outputShape: number[], workgroups: number, variableNames: string[], sums: string[], rows: string, accumulate: string, finish: string, uniforms?: string): WgslProgram {
  const shared = sums.map((s) => `var<workgroup> shared_${s} : array<f32, ${REDUCTION_WORKGROUP}>;`).join('\n');
  const main = `
      ${shared}
      fn main(index : i32) {
        let w = i32(workgroupId.x);
        let lane = localId.x;
        ${sums.map((s) => `var ${s} = 0.0;`).join(' ')}
        for (var r = i32(lane); r < ${rows}; r = r + ${REDUCTION_WORKGROUP}) {
          ${accumulate}
        }
        ${sums.map((s) => `shared_${s}[lane] = ${s};`).join(' ')}
        workgroupBarrier();
        for (var stride = ${REDUCTION_WORKGROUP / 2}u; stride > 0u; stride = stride >> 1u) {
          if (lane < stride) {
            ${sums.map((s) => `shared_${s}[lane] = shared_${s}[lane] + shared_${s}[lane + stride];`).join(' ')}
          }
          workgroupBarrier();
        }
        if (lane == 0u) {
          ${sums.map((s) => `${s} = shared_${s}[0];`).join(' ')}
          ${finish}
        }
      }`;
  return program(shaderKey, outputShape, variableNames, REDUCTION_WORKGROUP, workgroups, main, uniforms);
}

interface WebGpuBackend extends tf.KernelBackend {
  runWebGPUProgram(program: WgslProgram, inputs: TensorInfo[], dtype: 'float32', uniforms?: Uniform[]): TensorInfo;
}

function run(backend: tf.KernelBackend, wgsl: WgslProgram, inputs: TensorInfo[], uniforms?: Uniform[]): TensorInfo {
  return (backend as WebGpuBackend).runWebGPUProgram(wgsl, inputs, 'float32', uniforms);
}

/** The same tensor data seen as `[rows, channels]` (no copy, no dispatch). */
function asRows(x: TensorInfo): TensorInfo {
  const channels = x.shape[x.shape.length - 1];
  return { ...x, shape: [x.shape.reduce((a, b) => a * b, 1) / channels, channels] };
}

function withShape(x: TensorInfo, shape: number[]): TensorInfo {
  return { ...x, shape };
}

function assertFloat(kernelName: string, inputs: TensorInfo[]): void {
  if (inputs.some((t) => t.dtype !== 'float32')) throw new TypeError(`${kernelName} takes float32 tensors`);
}

const f32 = (...data: number[]): Uniform[] => data.map((value) => ({ type: 'float32', data: [value] }));

function batchNorm({ inputs, backend, attrs }: KernelArgs): TensorInfo[] {
  const x = (inputs as { x: TensorInfo }).x;
  assertFloat(BATCH_NORM_KERNELS.forward, [x]);
  const rows = asRows(x);
  const [count, channels] = rows.shape;
  const epsilon = attrs!.epsilon as number;
  // Two passes over x (mean, then squared deviations from it), as the cpu form: a one-pass
  // Σx² − (Σx)² loses the variance to cancellation when the mean is large.
  const mean = run(backend, reduction('adlBnMean', [channels], channels, ['X'], ['s'], 'uniforms.xShape[0]',
    's = s + X[r * uniforms.xShape[1] + w];', 'result[w] = s / f32(uniforms.xShape[0]);'), [rows]);
  const variance = run(backend, reduction('adlBnVariance', [channels], channels, ['X', 'M'], ['s'], 'uniforms.xShape[0]',
    'let d = X[r * uniforms.xShape[1] + w] - M[w]; s = s + d * d;', 'result[w] = s / f32(uniforms.xShape[0]);'), [rows, mean]);
  const normalised = run(backend, elementwise('adlBnNormalise', [count, channels], ['X', 'M', 'V'],
    'let c = index % uniforms.xShape[1]; result[index] = (X[index] - M[c]) * inverseSqrt(V[c] + uniforms.epsilon);', 'epsilon : f32,'),
    [rows, mean, variance], f32(epsilon));
  return [withShape(normalised, x.shape), mean, variance];
}

function batchNormGrad({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { dy, x, mean, variance } = inputs as Record<'dy' | 'x' | 'mean' | 'variance', TensorInfo>;
  assertFloat(BATCH_NORM_KERNELS.gradient, [dy, x, mean, variance]);
  const [rowsX, rowsDy] = [asRows(x), asRows(dy)];
  const channels = rowsX.shape[1];
  const epsilon = f32(attrs!.epsilon as number);
  // dx = (dy − mean(dy) − x̂·mean(dy·x̂)) / σ with x̂ = (x − μ) / σ: the two means per channel first.
  const sums = run(backend, reduction('adlBnGradSums', [2, channels], channels, ['DY', 'X', 'M', 'V'], ['a', 'b'], 'uniforms.xShape[0]',
    `let k = r * uniforms.xShape[1] + w; let g = DY[k];
     a = a + g; b = b + g * (X[k] - M[w]) * inverseSqrt(V[w] + uniforms.epsilon);`,
    'result[w] = a / f32(uniforms.xShape[0]); result[uniforms.xShape[1] + w] = b / f32(uniforms.xShape[0]);', 'epsilon : f32,'),
    [rowsDy, rowsX, mean, variance], epsilon);
  const dx = run(backend, elementwise('adlBnGrad', rowsX.shape, ['DY', 'X', 'M', 'V', 'S'],
    `let c = index % uniforms.xShape[1]; let inv = inverseSqrt(V[c] + uniforms.epsilon);
     result[index] = (DY[index] - S[c] - (X[index] - M[c]) * inv * S[uniforms.xShape[1] + c]) * inv;`, 'epsilon : f32,'),
    [rowsDy, rowsX, mean, variance, sums], epsilon);
  backend.disposeData(sums.dataId);
  return withShape(dx, x.shape);
}

/** NHWC coordinates of `index` in the shape of input `name`, for the 3×3 windows around them. */
const poolCoords = (name: string) => `
  let C = uniforms.${name}Shape[3]; let W = uniforms.${name}Shape[2]; let H = uniforms.${name}Shape[1];
  let c = index % C; let j = (index / C) % W; let i = (index / (C * W)) % H; let b = index / (C * W * H);`;

/** Which 3×3 pool a POOL_KERNELS kernel computes (attr `mode`). */
function poolMode(attrs: tf.NamedAttrMap | undefined): 'max' | 'avg' {
  return attrs?.mode === 'max' ? 'max' : 'avg';
}

/**
 * 3×3 pools at stride 1 with one pixel of padding, as the search space's max_pool_3x3 and
 * avg_pool_3x3 (and the onednn kernel): padding never wins a max and is not counted in an average.
 */
function pool3x3({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const x = (inputs as { x: TensorInfo }).x;
  assertFloat(POOL_KERNELS.forward, [x]);
  const max = poolMode(attrs) === 'max';
  return run(backend, elementwise(max ? 'adlMaxPool3x3' : 'adlAvgPool3x3', x.shape, ['X'], `${poolCoords('x')}
    var acc = ${max ? '-uniforms.INFINITY' : '0.0'};
    for (var p = max(i - 1, 0); p <= min(i + 1, H - 1); p = p + 1) {
      for (var q = max(j - 1, 0); q <= min(j + 1, W - 1); q = q + 1) {
        let v = X[((b * H + p) * W + q) * C + c];
        ${max ? 'if (v > acc) { acc = v; }' : 'acc = acc + v;'}
      }
    }
    ${max ? '' : 'acc = acc * (1.0 / f32((min(i + 1, H - 1) - max(i - 1, 0) + 1) * (min(j + 1, W - 1) - max(j - 1, 0) + 1)));'}
    result[index] = acc;`), [x]);
}

/**
 * The pools' gradient, gathered per input pixel from the (up to 9) outputs whose windows hold it, in
 * row-major output order as the scatter form adds them: an average gives each of its pixels dy/count,
 * a max gives its dy to the first maximum of its window in row-major order.
 */
function pool3x3Grad({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  assertFloat(POOL_KERNELS.gradient, [x, dy]);
  const max = poolMode(attrs) === 'max';
  const share = max
    ? `var best = -uniforms.INFINITY; var wp = max(oi - 1, 0); var wq = max(oj - 1, 0);
       for (var p = max(oi - 1, 0); p <= min(oi + 1, H - 1); p = p + 1) {
         for (var q = max(oj - 1, 0); q <= min(oj + 1, W - 1); q = q + 1) {
           let v = X[((b * H + p) * W + q) * C + c];
           if (v > best) { best = v; wp = p; wq = q; }
         }
       }
       if (wp == i && wq == j) { acc = acc + g; }`
    : 'acc = acc + g * (1.0 / f32((min(oi + 1, H - 1) - max(oi - 1, 0) + 1) * (min(oj + 1, W - 1) - max(oj - 1, 0) + 1)));';
  // Every input must be read: an unused binding makes the bind group invalid, and the dispatch
  // silently writes nothing. The average's gradient needs dy alone.
  const names = max ? ['X', 'Dy'] : ['Dy'];
  return run(backend, elementwise(max ? 'adlMaxPool3x3Grad' : 'adlAvgPool3x3Grad', x.shape, names, `${poolCoords('dy')}
    var acc = 0.0;
    for (var oi = max(i - 1, 0); oi <= min(i + 1, H - 1); oi = oi + 1) {
      for (var oj = max(j - 1, 0); oj <= min(j + 1, W - 1); oj = oj + 1) {
        let g = Dy[((b * H + oi) * W + oj) * C + c];
        ${share}
      }
    }
    result[index] = acc;`), max ? [x, dy] : [dy]);
}

const termNames = (count: number) => Array.from({ length: count }, (_, i) => `T${i}`);

function weightedSum({ inputs, backend }: KernelArgs): TensorInfo {
  const [weights, ...terms] = inputs as unknown as TensorInfo[];
  assertFloat(WEIGHTED_SUM_KERNELS.forward, [weights, ...terms]);
  const names = termNames(terms.length);
  const sum = names.map((name, i) => `W[${i}] * ${name}[index]`).join(' + ');
  return run(backend, elementwise('adlWeightedSum', terms[0].shape, ['W', ...names], `result[index] = ${sum};`), [weights, ...terms]);
}

function weightedSumGrad({ inputs, backend }: KernelArgs): TensorInfo[] {
  const [dy, weights, ...terms] = inputs as unknown as TensorInfo[];
  assertFloat(WEIGHTED_SUM_KERNELS.gradient, [dy, weights, ...terms]);
  const names = termNames(terms.length);
  // dWeights[i] = ⟨dy, terms[i]⟩: workgroup i reduces term i.
  const pick = names.map((name, i) => `if (w == ${i}) { s = s + DY[r] * ${name}[r]; }`).join(' else ');
  const dWeights = run(backend, reduction('adlWeightedSumGradWeights', [terms.length], terms.length, ['DY', ...names], ['s'], 'uniforms.count',
    pick, 'result[w] = s;', 'count : i32,'), [dy, ...terms], [{ type: 'int32', data: [dy.shape.reduce((a, b) => a * b, 1)] }]);
  // dTerms[i] = weights[i] · dy: one shader for every i.
  const dTerms = terms.map((_, i) => run(backend, elementwise('adlWeightedSumGradTerm', dy.shape, ['W', 'DY'],
    'result[index] = W[uniforms.term] * DY[index];', 'term : i32,'), [weights, dy], [{ type: 'int32', data: [i] }]));
  return [dWeights, ...dTerms];
}

/** Inputs: (value, velocity, gradient) per variable; outputs: (value, velocity) per variable. */
function sgdMomentum({ inputs, backend, attrs }: KernelArgs): TensorInfo[] {
  const all = inputs as unknown as TensorInfo[];
  assertFloat(OPTIMIZER_KERNELS.sgdMomentum, all);
  const { learningRate, momentum, weightDecay } = attrs as Record<string, number>;
  // PyTorch's formula: g ← ∇ + wd·w; v ← μ·v + g; w ← w − lr·v.
  const newVelocity = 'let v = uniforms.momentum * V[index] + G[index] + uniforms.weightDecay * X[index];';
  const fields = 'learningRate : f32, momentum : f32, weightDecay : f32,';
  const uniforms = f32(learningRate, momentum, weightDecay);
  const outputs: TensorInfo[] = [];
  for (let i = 0; i < all.length; i += 3) {
    const tensors = all.slice(i, i + 3);
    const shape = tensors[0].shape;
    outputs.push(
      run(backend, elementwise('adlSgdValue', shape, ['X', 'V', 'G'], `${newVelocity} result[index] = X[index] - uniforms.learningRate * v;`, fields), tensors, uniforms),
      run(backend, elementwise('adlSgdVelocity', shape, ['X', 'V', 'G'], `${newVelocity} result[index] = v;`, fields), tensors, uniforms),
    );
  }
  return outputs;
}

function adam({ inputs, backend, attrs }: KernelArgs): TensorInfo[] {
  const [value, first, second, gradient] = inputs as unknown as TensorInfo[];
  assertFloat(OPTIMIZER_KERNELS.adam, [value, first, second, gradient]);
  const a = attrs as Record<string, number>;
  // As adamUpdate's elementwise form: g ← ∇ + wd·w; m ← β1·m + (1 − β1)·g; v ← β2·v + (1 − β2)·g²;
  // w ← w − lr · (m / c1) / (√(v / c2) + ε).
  const moments = `let g = G[index] + uniforms.weightDecay * X[index];
    let m = uniforms.beta1 * M[index] + (1.0 - uniforms.beta1) * g;
    let v = uniforms.beta2 * V[index] + (1.0 - uniforms.beta2) * (g * g);`;
  const fields = 'learningRate : f32, beta1 : f32, beta2 : f32, epsilon : f32, weightDecay : f32, correction1 : f32, correction2 : f32,';
  const uniforms = f32(a.learningRate, a.beta1, a.beta2, a.epsilon, a.weightDecay, a.correction1, a.correction2);
  const tensors = [value, first, second, gradient];
  const names = ['X', 'M', 'V', 'G'];
  return [
    run(backend, elementwise('adamValue', value.shape, names,
      `${moments} result[index] = X[index] - uniforms.learningRate * ((m / uniforms.correction1) / (sqrt(v / uniforms.correction2) + uniforms.epsilon));`, fields), tensors, uniforms),
    run(backend, elementwise('adamFirst', value.shape, names, `${moments} result[index] = m;`, fields), tensors, uniforms),
    run(backend, elementwise('adamSecond', value.shape, names, `${moments} result[index] = v;`, fields), tensors, uniforms),
  ];
}

/**
 * The kernel set on webgpu: tfjs's own convolutions (`stockKernels`), with 3×3 pools, training-mode
 * batch statistics and weighted sums as the WGSL kernels above.
 */
export const webgpuKernels: Kernels = {
  ...stockKernels,
  name: 'webgpu',
  backend: 'webgpu',

  maxPool3x3: (x) => tf.engine().runKernel(POOL_KERNELS.forward, { x }, { mode: 'max' }) as tf.Tensor4D,
  avgPool3x3: (x) => tf.engine().runKernel(POOL_KERNELS.forward, { x }, { mode: 'avg' }) as tf.Tensor4D,

  batchStatistics(x, epsilon) {
    if (x.dtype !== 'float32') return normaliseWithElementwiseOps(x, epsilon);
    const [normalised, mean, variance] = tf.engine().runKernel(BATCH_NORM_KERNELS.forward, { x }, { epsilon }) as tf.Tensor[];
    return { normalised: normalised as tf.Tensor4D, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
  },

  weightedSum(terms, weights) {
    const inputs = weightedSumInputs(terms, weights);
    if (!inputs) return weightedSumOfElementwiseOps(terms, weights);
    return tf.engine().runKernel(WEIGHTED_SUM_KERNELS.forward, inputs as unknown as tf.NamedTensorMap, {}) as tf.Tensor;
  },
};

let registered = false;

/** Registers the WGSL kernels with tfjs for the webgpu backend and `webgpuKernels` as its set; once. */
export function registerWebGpuKernels(): void {
  if (registered) return;
  registered = true;
  const kernels: [string, (args: KernelArgs) => TensorInfo | TensorInfo[]][] = [
    [POOL_KERNELS.forward, pool3x3],
    [POOL_KERNELS.gradient, pool3x3Grad],
    [BATCH_NORM_KERNELS.forward, batchNorm],
    [BATCH_NORM_KERNELS.gradient, batchNormGrad],
    [WEIGHTED_SUM_KERNELS.forward, weightedSum],
    [WEIGHTED_SUM_KERNELS.gradient, weightedSumGrad],
    [OPTIMIZER_KERNELS.sgdMomentum, sgdMomentum],
    [OPTIMIZER_KERNELS.adam, adam],
  ];
  for (const [kernelName, kernelFunc] of kernels) {
    tf.registerKernel({ kernelName, backendName: 'webgpu', kernelFunc: (args) => kernelFunc(args as KernelArgs) });
  }
  registerFusedGradients();
  registerKernelSet(webgpuKernels);
}
