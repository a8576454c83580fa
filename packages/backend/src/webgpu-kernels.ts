import * as tf from '@tensorflow/tfjs';
import { normaliseWithElementwiseOps } from './batch-statistics.js';
import { AFFINE_BATCH_NORM_KERNELS, BATCH_NORM_KERNELS, CROSS_ENTROPY_KERNELS, POOL_KERNELS, registerFusedGradients, RELU_GRAD_KERNEL, RESAMPLE_KERNEL, sameShapeFloatTerms, EDGE_WEIGHTED_SUM_KERNELS, WEIGHTED_SUM_KERNELS, weightedSumInputs } from './fused-kernels.js';
import { dispatchGpuKernel, tensorsPerDispatch, type KernelArgs } from './gpu-dispatch.js';
import { registerKernelSet } from './kernel-sets.js';
import type { Kernels, RunningUpdate } from './kernels.js';
import { OPTIMIZER_KERNELS } from './optimizer-updates.js';
import { stockKernels } from './stock-kernels.js';
import { edgeWeightedSumOfElementwiseOps, weightedSumOfElementwiseOps } from './weighted-sum.js';
import { edgeWeightedSum, edgeWeightedSumFits, edgeWeightedSumGrad } from './webgpu-edge-weighted-sum.js';
import { affineBatchNorm, affineBatchNormGrad, batchNorm, batchNormGrad } from './webgpu-batch-norm.js';
import { conv2dBackpropFilter, depthwiseBackpropFilter, DILATED_FILTER_GRADIENT_KERNEL, dilatedConv2dBackpropFilter, splitsFilterGradient } from './webgpu-conv-gradients.js';
import { DEPTHWISE_INPUT_GRADIENT_KERNEL, depthwiseInputGradient, dilatedConv2d, dilatedDepthwiseConv2d, TURNED_FILTER_KERNEL, turnedFilter } from './webgpu-dilated-convs.js';
import { crossEntropy, crossEntropyGrad } from './webgpu-losses.js';
import { sgdMomentum } from './webgpu-optimizers.js';
import { resample } from './webgpu-resample.js';
import { splitsInOneDispatch, splitV } from './webgpu-split.js';
import { assertFloat, elementwise, ELEMENTWISE_WORKGROUP, f32, reduction, run } from './webgpu-programs.js';

/**
 * WGSL kernels for the webgpu backend: what tfjs runs as many small dispatches (training-mode batch
 * norm ~8 forward and ~20 backward, a mixed op's weighted sum 2 per term, an optimizer update 5–10 per
 * variable) runs as one to three. On a GPU each dispatch has a fixed cost of microseconds, and an
 * Auto-DeepLab search step makes hundreds of thousands of them. Single-output kernels are tfjs
 * programs (webgpu-programs.ts); several outputs from one dispatch take the package's own dispatch
 * (gpu-dispatch.ts). What a step dispatches: `probeWebGpu` (webgpu-probe.ts).
 */
type TensorInfo = tf.TensorInfo;

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
  // dTerms[i] = weights[i] · dy: every term's in one dispatch where the device binds that many buffers.
  const dTerms = terms.length + 2 <= tensorsPerDispatch(1)
    ? dispatchGpuKernel({
      name: 'adlWeightedSumGradTerms',
      inputs: [['W', weights], ['DY', dy]],
      outputs: terms.map(() => dy.shape),
      uniforms: [{ name: 'count', type: 'i32', value: tf.util.sizeFromShape(dy.shape) }],
      threads: ELEMENTWISE_WORKGROUP,
      workgroups: Math.ceil(tf.util.sizeFromShape(dy.shape) / ELEMENTWISE_WORKGROUP),
      body: `if (thread >= u.count) { return; } let g = DY[thread]; ${terms.map((_, i) => `out${i}[thread] = W[${i}] * g;`).join(' ')}`,
    })
    : terms.map((_, i) => run(backend, elementwise('adlWeightedSumGradTerm', dy.shape, ['W', 'DY'],
      'result[index] = W[uniforms.term] * DY[index];', 'term : i32,'), [weights, dy], [{ type: 'int32', data: [i] }]));
  return [dWeights, ...dTerms];
}

/**
 * `Σ_i weights[i] · terms[i]` with the weights in the attrs (`SCALED_SUM_KERNEL`), passed to the shader
 * as uniforms: a running average's `[1 − m, m]` is then no upload (each upload takes a staging buffer).
 */
export const SCALED_SUM_KERNEL = 'AdlScaledSum';

function scaledSum({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const terms = inputs as unknown as TensorInfo[];
  assertFloat(SCALED_SUM_KERNEL, terms);
  const weights = attrs!.weights as number[];
  const names = termNames(terms.length);
  const sum = names.map((name, i) => `uniforms.w${i} * ${name}[index]`).join(' + ');
  return run(backend, elementwise('adlScaledSum', terms[0].shape, names, `result[index] = ${sum};`, names.map((_, i) => `w${i} : f32,`).join(' ')),
    terms, f32(...weights));
}

/** The ReLU's gradient `dy · step(y)` in one pass, NaN where y is NaN (as tfjs's Step and Multiply). */
function reluGrad({ inputs, backend }: KernelArgs): TensorInfo {
  const { dy, y } = inputs as { dy: TensorInfo; y: TensorInfo };
  assertFloat(RELU_GRAD_KERNEL, [dy, y]);
  if (!tf.util.arraysEqual(dy.shape, y.shape)) throw new RangeError(`${RELU_GRAD_KERNEL}: dy ${dy.shape} and y ${y.shape} differ`);
  return run(backend, elementwise('adlReluGrad', dy.shape, ['Dy', 'Y'], `
    var gate = 0.0;
    if (Y[index] > 0.0) { gate = 1.0; }
    if (isnan(Y[index])) { gate = uniforms.NAN; }
    result[index] = Dy[index] * gate;`), [dy, y]);
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
 * The kernel set on webgpu: tfjs's own forward convolutions (`stockKernels`; dilated ones without
 * space-to-batch, webgpu-dilated-convs.ts) with split filter gradients (webgpu-conv-gradients.ts) and
 * tfjs's tiled input gradient; 3×3 pools, training-mode
 * batch norm (webgpu-batch-norm.ts) and weighted sums as the WGSL kernels above.
 */
export const webgpuKernels: Kernels = {
  ...stockKernels,
  name: 'webgpu',
  backend: 'webgpu',

  conv2d(x, filter, geometry) {
    if (geometry.dilation === 1 || geometry.stride !== 1 || x.dtype !== 'float32') return stockKernels.conv2d(x, filter, geometry);
    return dilatedConv2d(x, filter, geometry.dilation, geometry.padding);
  },

  depthwiseConv2d(x, filter, dilation) {
    if (dilation === 1 || x.dtype !== 'float32') return stockKernels.depthwiseConv2d(x, filter, dilation);
    return dilatedDepthwiseConv2d(x, filter, dilation);
  },

  maxPool3x3: (x) => tf.engine().runKernel(POOL_KERNELS.forward, { x }, { mode: 'max' }) as tf.Tensor4D,
  avgPool3x3: (x) => tf.engine().runKernel(POOL_KERNELS.forward, { x }, { mode: 'avg' }) as tf.Tensor4D,

  // Given the running statistics, the same kernel moves them (one dispatch fewer, or the only one).
  batchStatistics(x, epsilon, running) {
    if (x.dtype !== 'float32') return normaliseWithElementwiseOps(x, epsilon);
    const { inputs, attrs } = withRunning({ x }, epsilon, running);
    const [normalised, mean, variance, ...moved] = tf.engine().runKernel(BATCH_NORM_KERNELS.forward, inputs, attrs) as tf.Tensor[];
    return { normalised: normalised as tf.Tensor4D, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D, ...movedStatistics(moved) };
  },

  affineBatchNorm(x, scale, offset, epsilon, running) {
    const { inputs, attrs } = withRunning({ x, scale, offset }, epsilon, running);
    const [output, mean, variance, ...moved] = tf.engine().runKernel(AFFINE_BATCH_NORM_KERNELS.forward, inputs, attrs) as tf.Tensor[];
    return { output: output as tf.Tensor4D, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D, ...movedStatistics(moved) };
  },

  weightedSum(terms, weights) {
    if (Array.isArray(weights) && sameShapeFloatTerms(terms)) {
      if (weights.length !== terms.length) throw new RangeError(`weightedSum: ${terms.length} terms but ${weights.length} weights`);
      return tf.engine().runKernel(SCALED_SUM_KERNEL, terms as unknown as tf.NamedTensorMap, { weights: [...weights] }) as tf.Tensor;
    }
    const inputs = weightedSumInputs(terms, weights);
    if (!inputs) return weightedSumOfElementwiseOps(terms, weights);
    return tf.engine().runKernel(WEIGHTED_SUM_KERNELS.forward, inputs as unknown as tf.NamedTensorMap, {}) as tf.Tensor;
  },

  edgeWeightedSum(terms, weights) {
    // The kernel checks the shapes (edgeSumShape), as the elementwise form does.
    if ([weights, ...terms].some((t) => t.dtype !== 'float32') || !edgeWeightedSumFits(terms.length)) return edgeWeightedSumOfElementwiseOps(terms, weights);
    return tf.engine().runKernel(EDGE_WEIGHTED_SUM_KERNELS.forward, [weights, ...terms] as unknown as tf.NamedTensorMap, {}) as tf.Tensor4D;
  },
};

/** A batch-norm kernel's inputs and attrs, with the running statistics to move where given. */
function withRunning(inputs: tf.NamedTensorMap, epsilon: number, running: RunningUpdate | undefined): { inputs: tf.NamedTensorMap; attrs: tf.NamedAttrMap } {
  if (!running) return { inputs, attrs: { epsilon } };
  return {
    inputs: { ...inputs, runningMean: running.mean, runningVariance: running.variance },
    attrs: { epsilon, momentum: running.momentum, unbiased: running.unbiased },
  };
}

const movedStatistics = (moved: tf.Tensor[]) => (moved.length === 2 ? { running: { mean: moved[0] as tf.Tensor1D, variance: moved[1] as tf.Tensor1D } } : {});

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
    [AFFINE_BATCH_NORM_KERNELS.forward, affineBatchNorm],
    [AFFINE_BATCH_NORM_KERNELS.gradient, affineBatchNormGrad],
    [SCALED_SUM_KERNEL, scaledSum],
    [DILATED_FILTER_GRADIENT_KERNEL, dilatedConv2dBackpropFilter],
    [DEPTHWISE_INPUT_GRADIENT_KERNEL, depthwiseInputGradient],
    [TURNED_FILTER_KERNEL, turnedFilter],
    [RELU_GRAD_KERNEL, reluGrad],
    [RESAMPLE_KERNEL, resample],
    [CROSS_ENTROPY_KERNELS.forward, crossEntropy],
    [CROSS_ENTROPY_KERNELS.gradient, crossEntropyGrad],
    [WEIGHTED_SUM_KERNELS.forward, weightedSum],
    [WEIGHTED_SUM_KERNELS.gradient, weightedSumGrad],
    [EDGE_WEIGHTED_SUM_KERNELS.forward, edgeWeightedSum],
    [EDGE_WEIGHTED_SUM_KERNELS.gradient, edgeWeightedSumGrad],
    [OPTIMIZER_KERNELS.sgdMomentum, sgdMomentum],
    [OPTIMIZER_KERNELS.adam, adam],
  ];
  // tfjs's own kernels, replaced where ours apply: filter gradients (webgpu-conv-gradients.ts) and SplitV.
  const replacements: [string, (args: KernelArgs) => boolean, (args: KernelArgs) => TensorInfo | TensorInfo[]][] = [
    ['Conv2DBackpropFilter', splitsFilterGradient, conv2dBackpropFilter],
    ['DepthwiseConv2dNativeBackpropFilter', splitsFilterGradient, depthwiseBackpropFilter],
    ['SplitV', (args) => splitsInOneDispatch(args, tensorsPerDispatch(1) - 1), splitV],
  ];
  for (const [kernelName, applies, ours] of replacements) {
    const stock = tf.getKernel(kernelName, 'webgpu')?.kernelFunc;
    if (!stock) throw new Error(`tfjs-backend-webgpu has no ${kernelName} kernel to replace`);
    tf.unregisterKernel(kernelName, 'webgpu');
    kernels.push([kernelName, (args) => (applies(args) ? ours(args) : (stock(args as any) as TensorInfo | TensorInfo[]))]);
  }
  for (const [kernelName, kernelFunc] of kernels) {
    tf.registerKernel({ kernelName, backendName: 'webgpu', kernelFunc: (args) => kernelFunc(args as KernelArgs) });
  }
  // The tiled input gradient of a convolution (tfjs's default is a loop over the filter per input element).
  tf.env().set('WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE', false);
  registerFusedGradients();
  tf.registerGradient({
    kernelName: SCALED_SUM_KERNEL,
    gradFunc: (dy, _saved, attrs) => Object.fromEntries((attrs.weights as number[]).map((w, i) => [String(i),
      () => tf.engine().runKernel(SCALED_SUM_KERNEL, [dy] as unknown as tf.NamedTensorMap, { weights: [w] }) as tf.Tensor])),
  });
  registerKernelSet(webgpuKernels);
}
