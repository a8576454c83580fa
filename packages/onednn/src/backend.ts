import * as tf from '@tensorflow/tfjs';
import { AFFINE_BATCH_NORM_KERNELS, BATCH_NORM_KERNELS, CROSS_ENTROPY_KERNELS, OPTIMIZER_KERNELS, POOL_KERNELS, RELU_GRAD_KERNEL, RESAMPLE_KERNEL, WEIGHTED_SUM_KERNELS, registerFusedGradients } from '@adl/backend';
import { binding as addon, type OneDnnBinding } from './binding.js';
import { BufferPool, JS_BUFFERS, poolMegabytesFromEnvironment, type BufferSource } from './buffer-pool.js';

/** The tfjs name of the backend: tfjs's cpu backend with its convolutions and matMul run by oneDNN. */
export const ONEDNN_BACKEND = 'onednn';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap };
type TensorInfo = tf.TensorInfo;

const CONV_MODE = { forward: 0, backwardData: 1, backwardFilter: 2 } as const;

/** Buffers from this size up are the addon's huge-page mappings, whose memory `discard` gives back. */
const MAPPED_BUFFER_BYTES = 2 ** 21;

const mappedBuffers = (binding: OneDnnBinding): BufferSource => ({
  allocate: (bytes) => (bytes >= MAPPED_BUFFER_BYTES ? binding.allocate(bytes) : new ArrayBuffer(bytes)),
  discard: (buffer) => {
    if (buffer.byteLength < MAPPED_BUFFER_BYTES) return false;
    binding.discard(buffer);
    return true;
  },
});

/**
 * Freed tensors' arrays, reused by the kernels below (at most `ADL_ONEDNN_POOL_MB`, default 2048, kept);
 * the memory of large ones it lets go goes back to the system at once.
 */
const pool = new BufferPool(poolMegabytesFromEnvironment() * 2 ** 20, addon ? mappedBuffers(addon) : JS_BUFFERS);

/**
 * A cpu backend whose deleted tensors return their arrays to the pool, and whose reads hand out
 * copies of pooled arrays (a `dataSync()` result stays valid after its tensor is disposed).
 */
function pooledCpuBackend(cpuFactory: () => tf.KernelBackend | Promise<tf.KernelBackend>): () => Promise<tf.KernelBackend> {
  return async () => {
    const backend = (await cpuFactory()) as any;
    const { data } = backend;
    const disposeData = backend.disposeData.bind(backend);
    backend.disposeData = (dataId: object, force?: boolean) => {
      const values = data.get(dataId)?.values;
      const deleted = disposeData(dataId, force);
      if (deleted && values !== undefined && !data.has(dataId)) pool.release(values);
      return deleted;
    };
    const readSync = backend.readSync.bind(backend);
    backend.readSync = (dataId: object) => {
      const values = readSync(dataId);
      return pool.owns(values) ? values.slice() : values;
    };
    backend.read = async (dataId: object) => backend.readSync(dataId);
    const dispose = backend.dispose.bind(backend);
    backend.dispose = () => {
      dispose();
      pool.clear();
    };
    return backend as tf.KernelBackend;
  };
}

/**
 * Runs a cpu kernel on the pooled storage: an output that shares an input's array under another
 * data id (a contiguous slice is a view) pins that array, so it is never reused under the view.
 */
function cpuKernelOnPool(kernelFunc: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const result = kernelFunc(args);
    const { data } = args.backend as any;
    // An input may be absent (batchNorm without offset or scale) or a list (the ragged kernels' splits).
    const inputs = (Object.values(args.inputs) as (TensorInfo | TensorInfo[] | undefined)[]).flat().filter((input) => input !== undefined);
    for (const out of Array.isArray(result) ? result : [result]) {
      const buffer = data.get(out.dataId)?.values?.buffer;
      if (buffer === undefined) continue;
      for (const input of inputs) {
        const values = data.get(input.dataId)?.values;
        if (input.dataId !== out.dataId && values?.buffer === buffer) {
          pool.pin(values);
          pool.pin(data.get(out.dataId).values);
        }
      }
    }
    return result;
  };
}

/**
 * Registers the `onednn` backend: the cpu backend's storage and kernels, where Conv2D,
 * DepthwiseConv2dNative, their input and filter backprops (which also take a `dilations`
 * attribute here, so dilated convolutions have gradients) and BatchMatMul call oneDNN, and
 * broadcasting arithmetic, slices, pads, transposes and reductions run as compiled strided loops
 * (the cpu backend computes an n-D index per element for these).
 * Inputs it does not handle (NCHW, non-float32, unbroadcastable batches) go to the cpu kernel.
 */
export function registerOneDnnBackend(binding: OneDnnBinding): void {
  if (tf.findBackendFactory(ONEDNN_BACKEND)) return;
  const cpuFactory = tf.findBackendFactory('cpu');
  if (!cpuFactory) throw new Error('the tfjs cpu backend is not registered');
  tf.registerBackend(ONEDNN_BACKEND, pooledCpuBackend(cpuFactory), 0);
  const overrides = oneDnnKernelFuncs(binding);
  for (const config of tf.getKernelsForBackend('cpu')) {
    if (!overrides.has(config.kernelName)) tf.registerKernel({ ...config, backendName: ONEDNN_BACKEND, kernelFunc: cpuKernelOnPool(config.kernelFunc) });
  }
  for (const [kernelName, kernelFunc] of overrides) {
    const fallback = cpuKernelOnPool(tf.getKernel(kernelName, 'cpu')!.kernelFunc);
    tf.registerKernel({
      kernelName,
      backendName: ONEDNN_BACKEND,
      kernelFunc: (args) => kernelFunc(args as KernelArgs) ?? fallback(args),
    });
  }
  registerFusedKernels(binding);
}

/**
 * The pool, batch-statistics and weighted-sum kernels of `onednnKernels` (no cpu equivalent), with
 * their gradients, the separable resampling of `@adl/ops`'s resizes, and the one-pass optimizer updates
 * of `sgdMomentumUpdate` and `adamUpdate`.
 */
function registerFusedKernels(binding: OneDnnBinding): void {
  const register = (kernelName: string, kernelFunc: (args: KernelArgs) => TensorInfo | TensorInfo[]) =>
    tf.registerKernel({ kernelName, backendName: ONEDNN_BACKEND, kernelFunc: (args) => kernelFunc(args as KernelArgs) });
  const float = (kernelName: string, inputs: TensorInfo[]) => {
    if (!allFloat(...inputs)) throw new TypeError(`${kernelName} takes float32 tensors`);
  };
  const poolMode = (attrs: tf.NamedAttrMap | undefined) => (attrs?.mode === 'max' ? 0 : 1);
  const shapeParams = (x: TensorInfo) => Int32Array.from(x.shape);
  const rowsAndChannels = (x: TensorInfo) => Int32Array.of(size(x.shape) / x.shape[x.shape.length - 1], x.shape[x.shape.length - 1]);

  register(POOL_KERNELS.forward, ({ inputs, backend, attrs }) => {
    const { x } = inputs as { x: TensorInfo };
    float(POOL_KERNELS.forward, [x]);
    const y = pool.allocate(size(x.shape), false);
    binding.pool3x3(poolMode(attrs), values(backend, x), y, shapeParams(x));
    return output(backend, x.shape, y);
  });
  register(POOL_KERNELS.gradient, ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    float(POOL_KERNELS.gradient, [x, dy]);
    const dx = pool.allocate(size(x.shape), false);
    binding.pool3x3Grad(poolMode(attrs), values(backend, x), values(backend, dy), dx, shapeParams(x));
    return output(backend, x.shape, dx);
  });
  /** A batch-norm kernel's three output arrays (one shaped as `x`, two per channel) and their tensors. */
  const batchNormOutputs = (backend: tf.KernelBackend, x: TensorInfo) => {
    const channels = x.shape[x.shape.length - 1];
    const arrays = [pool.allocate(size(x.shape), false), pool.allocate(channels, false), pool.allocate(channels, false)] as const;
    const tensors = () => [output(backend, x.shape, arrays[0]), output(backend, [channels], arrays[1]), output(backend, [channels], arrays[2])];
    return { arrays, tensors };
  };
  register(BATCH_NORM_KERNELS.forward, ({ inputs, backend, attrs }) => {
    const { x } = inputs as { x: TensorInfo };
    float(BATCH_NORM_KERNELS.forward, [x]);
    const { arrays: [y, mean, variance], tensors } = batchNormOutputs(backend, x);
    binding.batchNorm(values(backend, x), y, mean, variance, rowsAndChannels(x), attrs!.epsilon as number);
    return tensors();
  });
  register(BATCH_NORM_KERNELS.gradient, ({ inputs, backend, attrs }) => {
    const { dy, x, mean, variance } = inputs as Record<'dy' | 'x' | 'mean' | 'variance', TensorInfo>;
    float(BATCH_NORM_KERNELS.gradient, [dy, x, mean, variance]);
    const dx = pool.allocate(size(x.shape), false);
    binding.batchNormGrad(values(backend, dy), values(backend, x), values(backend, mean), values(backend, variance), dx, rowsAndChannels(x), attrs!.epsilon as number);
    return output(backend, x.shape, dx);
  });

  register(AFFINE_BATCH_NORM_KERNELS.forward, ({ inputs, backend, attrs }) => {
    const { x, scale, offset } = inputs as Record<'x' | 'scale' | 'offset', TensorInfo>;
    float(AFFINE_BATCH_NORM_KERNELS.forward, [x, scale, offset]);
    const { arrays: [y, mean, variance], tensors } = batchNormOutputs(backend, x);
    binding.affineBatchNorm(values(backend, x), values(backend, scale), values(backend, offset), y, mean, variance, rowsAndChannels(x), attrs!.epsilon as number);
    return tensors();
  });
  register(AFFINE_BATCH_NORM_KERNELS.gradient, ({ inputs, backend, attrs }) => {
    const { dy, x, mean, variance, scale } = inputs as Record<'dy' | 'x' | 'mean' | 'variance' | 'scale', TensorInfo>;
    float(AFFINE_BATCH_NORM_KERNELS.gradient, [dy, x, mean, variance, scale]);
    const { arrays: [dx, dScale, dOffset], tensors } = batchNormOutputs(backend, x);
    binding.affineBatchNormGrad(values(backend, dy), values(backend, x), values(backend, mean), values(backend, variance), values(backend, scale), dx, dScale, dOffset, rowsAndChannels(x), attrs!.epsilon as number);
    return tensors();
  });

  register(WEIGHTED_SUM_KERNELS.forward, ({ inputs, backend }) => {
    const [weights, ...terms] = inputs as unknown as TensorInfo[];
    float(WEIGHTED_SUM_KERNELS.forward, [weights, ...terms]);
    const shape = terms[0].shape;
    const out = pool.allocate(size(shape), false);
    binding.weightedSum(values(backend, weights), terms.map((t) => values(backend, t)), out);
    return output(backend, shape, out);
  });
  register(WEIGHTED_SUM_KERNELS.gradient, ({ inputs, backend }) => {
    const [dy, weights, ...termList] = inputs as unknown as TensorInfo[];
    float(WEIGHTED_SUM_KERNELS.gradient, [dy, weights, ...termList]);
    const dWeights = pool.allocate(termList.length, false);
    const dTerms = termList.map(() => pool.allocate(size(dy.shape), false));
    binding.weightedSumGrad(values(backend, dy), values(backend, weights), termList.map((t) => values(backend, t)), dWeights, dTerms);
    return [output(backend, [termList.length], dWeights), ...dTerms.map((d) => output(backend, dy.shape, d))];
  });

  /** `[pixels, classes]` of a cross-entropy's logits and labels, or an error naming what does not fit. */
  const crossEntropyShape = (kernelName: string, logits: TensorInfo, labels: TensorInfo) => {
    if (logits.dtype !== 'float32' || labels.dtype !== 'int32') throw new TypeError(`${kernelName} takes float32 logits and int32 labels`);
    if (!tf.util.arraysEqual(logits.shape.slice(0, -1), labels.shape)) throw new RangeError(`${kernelName}: labels ${labels.shape} do not match logits ${logits.shape}`);
    return Int32Array.of(size(labels.shape), logits.shape[logits.shape.length - 1]);
  };
  const int32Values = (backend: tf.KernelBackend, tensor: TensorInfo) => (backend as any).data.get(tensor.dataId).values as Int32Array;
  register(CROSS_ENTROPY_KERNELS.forward, ({ inputs, backend, attrs }) => {
    const { logits, labels } = inputs as Record<'logits' | 'labels', TensorInfo>;
    const shape = crossEntropyShape(CROSS_ENTROPY_KERNELS.forward, logits, labels);
    const out = pool.allocate(1, false);
    binding.crossEntropy(values(backend, logits), int32Values(backend, labels), out, shape, attrs!.ignoreIndex as number);
    return output(backend, [], out);
  });
  register(CROSS_ENTROPY_KERNELS.gradient, ({ inputs, backend, attrs }) => {
    const { dy, logits, labels } = inputs as Record<'dy' | 'logits' | 'labels', TensorInfo>;
    const shape = crossEntropyShape(CROSS_ENTROPY_KERNELS.gradient, logits, labels);
    float(CROSS_ENTROPY_KERNELS.gradient, [dy]);
    const dx = pool.allocate(size(logits.shape), false);
    binding.crossEntropyGrad(values(backend, logits), int32Values(backend, labels), dx, shape, attrs!.ignoreIndex as number, values(backend, dy)[0]);
    return output(backend, logits.shape, dx);
  });
  register(RELU_GRAD_KERNEL, ({ inputs, backend }) => {
    const { dy, y } = inputs as Record<'dy' | 'y', TensorInfo>;
    float(RELU_GRAD_KERNEL, [dy, y]);
    if (!tf.util.arraysEqual(dy.shape, y.shape)) throw new RangeError(`${RELU_GRAD_KERNEL}: dy ${dy.shape} and y ${y.shape} differ`);
    const contiguous = Int32Array.of(1);
    const out = pool.allocate(size(dy.shape), false);
    binding.strided(RELU_GRAD, Int32Array.of(out.length), out, 0, contiguous, values(backend, dy), 0, contiguous, values(backend, y), 0, contiguous);
    return output(backend, dy.shape, out);
  });
  register(RESAMPLE_KERNEL, ({ inputs, backend, attrs }) => {
    const { x, rows, columns } = inputs as Record<'x' | 'rows' | 'columns', TensorInfo>;
    float(RESAMPLE_KERNEL, [x, rows, columns]);
    const transposed = Boolean(attrs?.transposed);
    const [n, , , c] = x.shape;
    const shape = [n, rows.shape[transposed ? 1 : 0], columns.shape[transposed ? 1 : 0], c];
    const out = pool.allocate(size(shape), false);
    binding.resample(values(backend, x), values(backend, rows), values(backend, columns), out, Int32Array.of(...x.shape, shape[1], shape[2]), transposed);
    return output(backend, shape, out);
  });

  // Inputs: (value, velocity, gradient) per variable; outputs: (value, velocity) per variable.
  register(OPTIMIZER_KERNELS.sgdMomentum, ({ inputs, backend, attrs }) => {
    const all = inputs as unknown as TensorInfo[];
    float(OPTIMIZER_KERNELS.sgdMomentum, all);
    const { learningRate, momentum, weightDecay } = attrs as Record<string, number>;
    const hyper = Float64Array.of(learningRate, momentum, weightDecay);
    const outputs: TensorInfo[] = [];
    for (let i = 0; i < all.length; i += 3) {
      const [variable, velocity, gradient] = all.slice(i, i + 3);
      const [value, state] = [values(backend, variable), values(backend, velocity)];
      if (updatableInPlace(backend, variable, value) && updatableInPlace(backend, velocity, state)) {
        binding.sgdMomentum(value, state, values(backend, gradient), value, state, hyper);
        outputs.push(sharing(backend, variable), sharing(backend, velocity));
        continue;
      }
      const [newValue, newVelocity] = [0, 1].map(() => pool.allocate(size(variable.shape), false));
      binding.sgdMomentum(value, state, values(backend, gradient), newValue, newVelocity, hyper);
      outputs.push(output(backend, variable.shape, newValue), output(backend, variable.shape, newVelocity));
    }
    return outputs;
  });
  register(OPTIMIZER_KERNELS.adam, ({ inputs, backend, attrs }) => {
    const tensors = inputs as unknown as TensorInfo[];
    float(OPTIMIZER_KERNELS.adam, tensors);
    const [value, first, second] = [0, 1, 2].map(() => pool.allocate(size(tensors[0].shape), false));
    const a = attrs as Record<string, number>;
    const hyper = Float64Array.of(a.learningRate, a.beta1, a.beta2, a.epsilon, a.weightDecay, a.correction1, a.correction2);
    binding.adam(...(tensors.map((t) => values(backend, t)) as [Float32Array, Float32Array, Float32Array, Float32Array]), value, first, second, hyper);
    return [value, first, second].map((data) => output(backend, tensors[0].shape, data));
  });

  registerFusedGradients();
}

/**
 * Whether an optimizer kernel may write a tensor's new value over its old one: its array is the pool's
 * (never a caller's array nor one a `dataSync()` handed out) and no other tensor shares its data. The
 * optimizer assigns the output to the variable the input came from, so no one sees the old value again.
 * Saves an allocation per variable and a step's worth of fresh memory for the new values.
 */
function updatableInPlace(backend: tf.KernelBackend, tensor: TensorInfo, array: Float32Array): boolean {
  return pool.owns(array) && backend.refCount(tensor.dataId) === 1;
}

/** An output that is `tensor`'s data, shared (as the Identity kernel shares it). */
function sharing(backend: tf.KernelBackend, tensor: TensorInfo): TensorInfo {
  backend.incRef(tensor.dataId);
  return { dataId: tensor.dataId, shape: tensor.shape, dtype: tensor.dtype };
}

/** A float32 tensor's values; a cast from bool or int32 keeps the source's Uint8Array/Int32Array on cpu. */
function values(backend: tf.KernelBackend, tensor: TensorInfo): Float32Array {
  const stored = (backend as any).data.get(tensor.dataId).values;
  return stored instanceof Float32Array ? stored : Float32Array.from(stored as ArrayLike<number>);
}

function output(backend: tf.KernelBackend, shape: number[], data: Float32Array): TensorInfo {
  return (backend as any).makeTensorInfo(shape, 'float32', data);
}

const allFloat = (...tensors: TensorInfo[]) => tensors.every((t) => t.dtype === 'float32');

function convParams(info: tf.backend_util.Conv2DInfo, groups: number): Int32Array {
  return Int32Array.of(
    info.batchSize, info.inHeight, info.inWidth, info.inChannels,
    info.outHeight, info.outWidth, info.outChannels,
    info.filterHeight, info.filterWidth, groups,
    info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth,
    info.padInfo.top, info.padInfo.left,
  );
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

type OneDnnKernelFunc = (args: KernelArgs) => TensorInfo | TensorInfo[] | null;

function oneDnnKernelFuncs(binding: OneDnnBinding): Map<string, OneDnnKernelFunc> {
  /** Runs one convolution; `depthwise` makes the filter `[kh, kw, channels, multiplier]`. */
  const conv = (
    backend: tf.KernelBackend,
    mode: 0 | 1 | 2,
    a: TensorInfo,
    b: TensorInfo,
    info: tf.backend_util.Conv2DInfo,
    depthwise: boolean,
  ): TensorInfo | null => {
    // A gradient whose dy is not the shape the attributes imply (tfjs allows a larger one, e.g. a
    // conv2dTranspose to a smaller output, and reads its leading rows and columns): the cpu kernel.
    const dy = mode === CONV_MODE.backwardData ? a : mode === CONV_MODE.backwardFilter ? b : undefined;
    if (dy !== undefined && dy.shape.some((d, i) => d !== info.outShape[i])) return null;
    const shape = mode === CONV_MODE.forward ? info.outShape : mode === CONV_MODE.backwardData ? info.inShape : info.filterShape;
    const out = pool.allocate(size(shape), false);
    binding.conv(mode, values(backend, a), values(backend, b), out, convParams(info, depthwise ? info.inChannels : 1));
    return output(backend, shape, out);
  };
  const nhwc = (format: unknown) => format === undefined || format === 'NHWC';
  const info = (inShape: number[], filterShape: number[], attrs: any, depthwise: boolean) =>
    tf.backend_util.computeConv2DInfo(
      inShape as [number, number, number, number],
      filterShape as [number, number, number, number],
      attrs.strides,
      attrs.dilations ?? 1,
      attrs.pad,
      attrs.dimRoundingMode,
      depthwise,
      'channelsLast',
    );

  const kernels = new Map<string, OneDnnKernelFunc>();
  for (const depthwise of [false, true]) {
    const [forward, backwardData, backwardFilter] = depthwise
      ? ['DepthwiseConv2dNative', 'DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter']
      : ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'];
    kernels.set(forward, ({ inputs, backend, attrs }) => {
      const { x, filter } = inputs as { x: TensorInfo; filter: TensorInfo };
      if (!nhwc(attrs?.dataFormat) || !allFloat(x, filter)) return null;
      return conv(backend, CONV_MODE.forward, x, filter, info(x.shape, filter.shape, attrs, depthwise), depthwise);
    });
    kernels.set(backwardData, ({ inputs, backend, attrs }) => {
      const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
      if (!nhwc(attrs?.dataFormat) || !allFloat(dy, filter)) return null;
      const inputShape = attrs!.inputShape as number[];
      return conv(backend, CONV_MODE.backwardData, dy, filter, info(inputShape, filter.shape, attrs, depthwise), depthwise);
    });
    kernels.set(backwardFilter, ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
      if (!nhwc(attrs?.dataFormat) || !allFloat(x, dy)) return null;
      const filterShape = attrs!.filterShape as number[];
      return conv(backend, CONV_MODE.backwardFilter, x, dy, info(x.shape, filterShape, attrs, depthwise), depthwise);
    });
  }

  kernels.set('BatchMatMul', ({ inputs, backend, attrs }) => {
    const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
    if (!allFloat(a, b) || a.shape.length < 2 || b.shape.length < 2) return null;
    const transposeA = Boolean(attrs?.transposeA);
    const transposeB = Boolean(attrs?.transposeB);
    const [ra, rb] = [a.shape.length, b.shape.length];
    const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
    const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
    const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
    const [batchShapeA, batchShapeB] = [a.shape.slice(0, -2), b.shape.slice(0, -2)];
    const [batchA, batchB] = [size(batchShapeA), size(batchShapeB)];
    const sameBatch = batchShapeA.length === batchShapeB.length && batchShapeA.every((d, i) => d === batchShapeB[i]);
    if (!sameBatch && batchA !== 1 && batchB !== 1) return null;
    const batchShape = batchA === 1 && batchShapeB.length >= batchShapeA.length ? batchShapeB : batchShapeA;
    const out = pool.allocate(Math.max(batchA, batchB) * m * n, false);
    binding.matMul(values(backend, a), values(backend, b), out, Int32Array.of(batchA, batchB, m, k, n, +transposeA, +transposeB));
    return output(backend, [...batchShape, m, n], out);
  });
  for (const [kernelName, op] of Object.entries(BINARY_OPS)) kernels.set(kernelName, (args) => binary(binding, args, op));
  for (const [kernelName, op] of Object.entries(REDUCE_OPS)) kernels.set(kernelName, (args) => reduce(binding, args, op, kernelName === 'Mean'));
  for (const [kernelName, op] of Object.entries(UNARY_OPS)) kernels.set(kernelName, (args) => unary(binding, args, op));
  kernels.set('AddN', (args) => addN(binding, args));
  kernels.set('Slice', (args) => slice(binding, args));
  kernels.set('SplitV', (args) => splitV(binding, args));
  kernels.set('Concat', (args) => concat(binding, args));
  kernels.set('Less', (args) => compareSameShape(args, (a, b) => a < b));
  kernels.set('GreaterEqual', (args) => compareSameShape(args, (a, b) => a >= b));
  kernels.set('PadV2', (args) => pad(binding, args));
  kernels.set('Transpose', (args) => transpose(binding, args));
  kernels.set('Reverse', (args) => reverse(binding, args));
  kernels.set('Softmax', (args) => softmax(args));
  kernels.set('OneHot', (args) => oneHot(args));
  return kernels;
}

// Op codes of the addon's strided loop.
const COPY = 0;
const BINARY_OPS = { Add: 1, Sub: 2, Multiply: 3, RealDiv: 4, Maximum: 5, Minimum: 6, SquaredDifference: 7 } as const;
const REDUCE_OPS = { Sum: 10, Mean: 10, Max: 11, Min: 12 } as const;
const UNARY_OPS = { Relu: 20, Step: 21, Square: 22, Exp: 23 } as const;
/** dy · step(y) (RELU_GRAD_KERNEL). */
const RELU_GRAD = 8;

/** Row-major strides of a shape. */
function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  for (let d = shape.length - 1, s = 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d];
  }
  return strides;
}

/** Strides that read `shape` broadcast (numpy rules) to `outShape`: 0 along broadcast dimensions. */
function broadcastStrides(shape: readonly number[], outShape: readonly number[]): Int32Array {
  const aligned = [...new Array<number>(outShape.length - shape.length).fill(1), ...shape];
  const strides = stridesOf(aligned);
  return Int32Array.from(aligned, (d, i) => (d === 1 ? 0 : strides[i]));
}

function binary(binding: OneDnnBinding, { inputs, backend }: KernelArgs, op: number): TensorInfo | null {
  const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
  if (!allFloat(a, b)) return null;
  const shape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
  const out = pool.allocate(size(shape), false);
  binding.strided(op, Int32Array.from(shape), out, 0, Int32Array.from(stridesOf(shape)), values(backend, a), 0, broadcastStrides(a.shape, shape), values(backend, b), 0, broadcastStrides(b.shape, shape));
  return output(backend, shape, out);
}

function unary(binding: OneDnnBinding, { inputs, backend, attrs }: KernelArgs, op: number): TensorInfo | null {
  const { x } = inputs as { x: TensorInfo };
  if (!allFloat(x) || (op === UNARY_OPS.Step && attrs?.alpha)) return null;
  const contiguous = Int32Array.of(1);
  const out = pool.allocate(size(x.shape), false);
  binding.strided(op, Int32Array.of(out.length), out, 0, contiguous, values(backend, x), 0, contiguous);
  return output(backend, x.shape, out);
}

function addN(binding: OneDnnBinding, { inputs, backend }: KernelArgs): TensorInfo | null {
  const tensors = Object.values(inputs) as TensorInfo[];
  if (!allFloat(...tensors)) return null;
  const shape = Int32Array.of(size(tensors[0].shape));
  const contiguous = Int32Array.of(1);
  const out = pool.allocate(shape[0], false);
  out.set(values(backend, tensors[0]));
  for (const t of tensors.slice(1)) binding.strided(BINARY_OPS.Add, shape, out, 0, contiguous, out, 0, contiguous, values(backend, t), 0, contiguous);
  return output(backend, tensors[0].shape, out);
}

function reduce(binding: OneDnnBinding, { inputs, backend, attrs }: KernelArgs, op: number, mean: boolean): TensorInfo | null {
  const { x } = inputs as { x: TensorInfo };
  if (!allFloat(x)) return null;
  // Max names its axes `reductionIndices`, the other reductions `axis`.
  const axes = tf.util.parseAxisParam((attrs!.axis ?? attrs!.reductionIndices) as number | number[], x.shape);
  const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const keptStrides = stridesOf(kept);
  const out = pool.allocate(size(kept), op === REDUCE_OPS.Sum);
  if (op !== REDUCE_OPS.Sum) out.fill(op === REDUCE_OPS.Max ? -Infinity : Infinity);
  const outStrides = Int32Array.from(kept, (_, i) => (axes.includes(i) ? 0 : keptStrides[i]));
  binding.strided(op, Int32Array.from(x.shape), out, 0, outStrides, values(backend, x), 0, Int32Array.from(stridesOf(x.shape)));
  if (mean) {
    const scale = 1 / axes.reduce((n, axis) => n * x.shape[axis], 1);
    for (let i = 0; i < out.length; i++) out[i] *= scale;
  }
  return output(backend, attrs!.keepDims ? kept : x.shape.filter((_, i) => !axes.includes(i)), out);
}

function slice(binding: OneDnnBinding, { inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const { x } = inputs as { x: TensorInfo };
  if (!allFloat(x)) return null;
  const [begin, sliceShape] = tf.slice_util.parseSliceParams(x as tf.Tensor, attrs!.begin as number[], attrs!.size as number[]);
  const strides = stridesOf(x.shape);
  const offset = begin.reduce((sum, b, i) => sum + b * strides[i], 0);
  const out = pool.allocate(size(sliceShape), false);
  binding.strided(COPY, Int32Array.from(sliceShape), out, 0, Int32Array.from(stridesOf(sliceShape)), values(backend, x), offset, Int32Array.from(strides));
  return output(backend, sliceShape, out);
}

/** Each input copied into its place along the axis (tfjs's cpu kernel copies element by element). */
function concat(binding: OneDnnBinding, { inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const all = Object.values(inputs) as TensorInfo[];
  if (!allFloat(...all)) return null;
  const axis = tf.util.parseAxisParam(attrs!.axis as number, all[0].shape)[0];
  tf.backend_util.assertParamsConsistent(all.map((t) => t.shape), axis);
  const outShape = tf.backend_util.computeOutShape(all.map((t) => t.shape), axis);
  const out = pool.allocate(size(outShape), false);
  const outStrides = stridesOf(outShape);
  let begin = 0;
  for (const x of all) {
    if (size(x.shape) > 0) {
      binding.strided(COPY, Int32Array.from(x.shape), out, begin * outStrides[axis], Int32Array.from(outStrides), values(backend, x), 0, Int32Array.from(stridesOf(x.shape)));
    }
    begin += x.shape[axis];
  }
  return output(backend, outShape, out);
}

function splitV(binding: OneDnnBinding, { inputs, backend, attrs }: KernelArgs): TensorInfo[] | null {
  const { x } = inputs as { x: TensorInfo };
  if (!allFloat(x)) return null;
  const axis = tf.util.parseAxisParam(attrs!.axis as number, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, attrs!.numOrSizeSplits as number | number[], axis);
  const strides = stridesOf(x.shape);
  let begin = 0;
  return sizes.map((length) => {
    const shape = x.shape.map((d, i) => (i === axis ? length : d));
    const out = pool.allocate(size(shape), false);
    binding.strided(COPY, Int32Array.from(shape), out, 0, Int32Array.from(stridesOf(shape)), values(backend, x), begin * strides[axis], Int32Array.from(strides));
    begin += length;
    return output(backend, shape, out);
  });
}

/** A comparison of two same-shape float32 tensors into a bool tensor (broadcasts go to the cpu kernel). */
function compareSameShape({ inputs, backend }: KernelArgs, compare: (a: number, b: number) => boolean): TensorInfo | null {
  const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
  if (!allFloat(a, b) || a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) return null;
  const [av, bv] = [values(backend, a), values(backend, b)];
  const out = new Uint8Array(av.length);
  for (let i = 0; i < av.length; i++) out[i] = compare(av[i], bv[i]) ? 1 : 0;
  return (backend as any).makeTensorInfo(a.shape, 'bool', out);
}

function pad(binding: OneDnnBinding, { inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const { x } = inputs as { x: TensorInfo };
  if (!allFloat(x)) return null;
  const paddings = attrs!.paddings as [number, number][];
  const shape = x.shape.map((d, i) => paddings[i][0] + d + paddings[i][1]);
  const out = pool.allocate(size(shape), true);
  if (attrs!.constantValue) out.fill(attrs!.constantValue as number);
  const strides = stridesOf(shape);
  const offset = paddings.reduce((sum, [before], i) => sum + before * strides[i], 0);
  binding.strided(COPY, Int32Array.from(x.shape), out, offset, Int32Array.from(strides), values(backend, x), 0, Int32Array.from(stridesOf(x.shape)));
  return output(backend, shape, out);
}

function transpose(binding: OneDnnBinding, { inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const { x } = inputs as { x: TensorInfo };
  if (!allFloat(x)) return null;
  const perm = attrs!.perm as number[];
  const shape = perm.map((axis) => x.shape[axis]);
  const inStrides = stridesOf(x.shape);
  const out = pool.allocate(size(shape), false);
  binding.strided(COPY, Int32Array.from(shape), out, 0, Int32Array.from(stridesOf(shape)), values(backend, x), 0, Int32Array.from(perm, (axis) => inStrides[axis]));
  return output(backend, shape, out);
}

/** A copy read backwards along `dims`: the cpu kernel indexes element by element (270 ms at [1, 128, 256, 19]). */
function reverse(binding: OneDnnBinding, { inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const { x } = inputs as { x: TensorInfo };
  if (!allFloat(x) || x.shape.length === 0) return null;
  const dims = new Set(tf.util.parseAxisParam(attrs?.dims as number | number[], x.shape));
  const strides = stridesOf(x.shape);
  let offset = 0;
  const readStrides = strides.map((stride, d) => {
    if (!dims.has(d)) return stride;
    offset += (x.shape[d] - 1) * stride;
    return -stride;
  });
  const out = pool.allocate(size(x.shape), false);
  binding.strided(COPY, Int32Array.from(x.shape), out, 0, Int32Array.from(strides), values(backend, x), offset, Int32Array.from(readStrides));
  return output(backend, x.shape, out);
}

/**
 * A float32 one-hot on a pooled array (the cpu kernel's fresh array of N·depth floats costs more than
 * the loop: 325 ms for the 769² loss of a batch of 2).
 */
function oneHot({ inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const { indices } = inputs as { indices: TensorInfo };
  const { dtype, depth, onValue, offValue } = attrs as { dtype: string; depth: number; onValue: number; offValue: number };
  if (dtype !== 'float32') return null;
  const labels = (backend as any).data.get(indices.dataId).values as ArrayLike<number>;
  const out = pool.allocate(labels.length * depth, false);
  out.fill(offValue);
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= 0 && labels[i] < depth) out[i * depth + labels[i]] = onValue;
  }
  return output(backend, [...indices.shape, depth], out);
}

/** Softmax over the last axis in one pass per row (the cpu kernel composes five broadcasting kernels). */
function softmax({ inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const { logits } = inputs as { logits: TensorInfo };
  const rank = logits.shape.length;
  const dim = attrs?.dim as number;
  if (!allFloat(logits) || rank === 0 || (dim !== -1 && dim !== rank - 1)) return null;
  const depth = logits.shape[rank - 1];
  const x = values(backend, logits);
  const out = pool.allocate(x.length, false);
  for (let start = 0; start < x.length; start += depth) {
    let max = -Infinity;
    for (let i = start; i < start + depth; i++) if (x[i] > max) max = x[i];
    let sum = 0;
    for (let i = start; i < start + depth; i++) sum += out[i] = Math.exp(x[i] - max);
    for (let i = start; i < start + depth; i++) out[i] /= sum;
  }
  return output(backend, logits.shape, out);
}
