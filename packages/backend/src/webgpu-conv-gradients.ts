import * as tf from '@tensorflow/tfjs';
import { dispatchGpuKernel, type KernelArgs } from './gpu-dispatch.js';
import { assertFloat } from './webgpu-programs.js';

/**
 * Filter gradients of dense and depthwise convolutions on webgpu, split over the output pixels.
 *
 * tfjs's programs run one thread per filter weight, each looping over every output pixel of the
 * batch: a 1×1 20→20 convolution at 193², batch 2, is 400 threads looping 74,498 times, a few
 * workgroups on a GPU with a hundred cores. Here the pixels are cut into chunks of at most
 * `FILTER_GRADIENT_ROWS`; one thread sums one weight over one chunk (neighbouring threads hold neighbouring output
 * channels, so their reads of dy are contiguous), and a second pass adds the chunks of each weight in
 * chunk order, so every run gives the same bits.
 */

type TensorInfo = tf.TensorInfo;

const THREADS = 64;
/** Longest loop of a thread over pixels in a filter gradient (here, and in `GroupedPointwiseConv` of `@adl/ops`). */
export const FILTER_GRADIENT_ROWS = 4096;

/** Shortest chunk worth a second pass. */
const MIN_CHUNK = 256;
/** Threads to aim for: enough to fill a large GPU several times over. */
const TARGET_THREADS = 1 << 17;

/** Pixels per chunk for `weights` weights over `pixels` output pixels. */
export function chunkLength(pixels: number, weights: number): number {
  const wanted = Math.ceil(pixels / Math.max(1, Math.floor(TARGET_THREADS / weights)));
  return Math.min(FILTER_GRADIENT_ROWS, Math.max(MIN_CHUNK, wanted), pixels);
}

interface Geometry {
  readonly batch: number;
  readonly inHeight: number;
  readonly inWidth: number;
  readonly inChannels: number;
  readonly outHeight: number;
  readonly outWidth: number;
  readonly strideHeight: number;
  readonly strideWidth: number;
  readonly dilationHeight: number;
  readonly dilationWidth: number;
  readonly padTop: number;
  readonly padLeft: number;
  readonly filterHeight: number;
  readonly filterWidth: number;
}

function geometry(info: tf.backend_util.Conv2DInfo): Geometry {
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    dilationHeight: info.dilationHeight,
    dilationWidth: info.dilationWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
  };
}

const int = (name: string, value: number) => ({ name, type: 'i32' as const, value });

/**
 * Σ over output pixels of x at the tap's input pixel times dy, per weight, in `chunks` partial sums;
 * `weight` decodes the weight index `k` into `tapRow`, `tapCol`, `inChannel`, `outChannel`.
 */
function splitFilterGradient(name: string, x: TensorInfo, dy: TensorInfo, g: Geometry, filterShape: number[], outChannels: number, weight: string): TensorInfo {
  const weights = tf.util.sizeFromShape(filterShape);
  const pixels = g.batch * g.outHeight * g.outWidth;
  const chunk = chunkLength(pixels, weights);
  const chunks = Math.ceil(pixels / chunk);
  const uniforms = [
    int('weights', weights), int('pixels', pixels), int('chunk', chunk),
    int('inHeight', g.inHeight), int('inWidth', g.inWidth), int('inChannels', g.inChannels),
    int('outHeight', g.outHeight), int('outWidth', g.outWidth), int('outChannels', outChannels),
    int('strideHeight', g.strideHeight), int('strideWidth', g.strideWidth),
    int('dilationHeight', g.dilationHeight), int('dilationWidth', g.dilationWidth),
    int('padTop', g.padTop), int('padLeft', g.padLeft),
    int('filterWidth', g.filterWidth), int('multiplier', outChannels / g.inChannels),
  ];
  const [partials] = dispatchGpuKernel({
    name: `${name}Chunks`,
    inputs: [['X', x], ['DY', dy]],
    outputs: [chunks === 1 ? filterShape : [chunks, weights]],
    uniforms,
    threads: THREADS,
    workgroups: Math.ceil((chunks * weights) / THREADS),
    loopLength: chunk,
    body: `
      if (thread >= u.weights * ${chunks}) { return; }
      let k = thread % u.weights;
      let c = thread / u.weights;
      ${weight}
      var sum = 0.0;
      let first = c * u.chunk;
      let last = min(first + u.chunk, u.pixels);
      // The pixel's coordinates, stepped along rather than divided out at every pixel.
      var col = first % u.outWidth;
      var row = (first / u.outWidth) % u.outHeight;
      var b = first / (u.outWidth * u.outHeight);
      for (var p = first; p < last; p = p + 1) {
        let xRow = row * u.strideHeight - u.padTop + tapRow * u.dilationHeight;
        let xCol = col * u.strideWidth - u.padLeft + tapCol * u.dilationWidth;
        if (xRow >= 0 && xRow < u.inHeight && xCol >= 0 && xCol < u.inWidth) {
          sum = sum + X[((b * u.inHeight + xRow) * u.inWidth + xCol) * u.inChannels + inChannel] * DY[p * u.outChannels + outChannel];
        }
        col = col + 1;
        if (col == u.outWidth) {
          col = 0;
          row = row + 1;
          if (row == u.outHeight) { row = 0; b = b + 1; }
        }
      }
      out0[thread] = sum;`,
  });
  if (chunks === 1) return partials;
  const [sum] = dispatchGpuKernel({
    name: `${name}Sum`,
    inputs: [['PARTIALS', partials]],
    outputs: [filterShape],
    uniforms: [int('weights', weights), int('chunks', chunks)],
    threads: THREADS,
    workgroups: Math.ceil(weights / THREADS),
    loopLength: chunks,
    body: `
      if (thread >= u.weights) { return; }
      var sum = 0.0;
      for (var c = 0; c < u.chunks; c = c + 1) { sum = sum + PARTIALS[c * u.weights + thread]; }
      out0[thread] = sum;`,
  });
  tf.backend().disposeData(partials.dataId);
  return sum;
}

/** Whether the split form computes this filter gradient: NHWC float32 (else tfjs's own program does). */
export function splitsFilterGradient({ inputs, attrs }: KernelArgs): boolean {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  return x.dtype === 'float32' && dy.dtype === 'float32' && (attrs?.dataFormat ?? 'NHWC') === 'NHWC';
}

/** tfjs's `Conv2DBackpropFilter` (NHWC, dilation 1 as tfjs-core sends it). */
export function conv2dBackpropFilter({ inputs, attrs }: KernelArgs): TensorInfo {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  assertFloat('Conv2DBackpropFilter', [x, dy]);
  const { strides, pad, dimRoundingMode, filterShape } = attrs as any;
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  const [, , inChannels, outChannels] = filterShape as number[];
  return splitFilterGradient('adlConvFilterGrad', x, dy, geometry(info), filterShape, outChannels, denseWeight(inChannels, outChannels));
}

/** Weight `k` of a dense `[kh, kw, in, out]` filter as its tap, input and output channel. */
const denseWeight = (inChannels: number, outChannels: number) => `
      let outChannel = k % ${outChannels};
      let inChannel = (k / ${outChannels}) % ${inChannels};
      let tap = k / (${outChannels * inChannels});
      let tapRow = tap / u.filterWidth;
      let tapCol = tap % u.filterWidth;`;

/**
 * `DILATED_FILTER_GRADIENT_KERNEL`: the filter gradient of a dense convolution at any dilation (tfjs's
 * `Conv2DBackpropFilter` takes none): inputs `{ x, dy }`, attrs `strides`, `dilations`, `pad`, `filterShape`.
 */
export const DILATED_FILTER_GRADIENT_KERNEL = 'AdlConv2DBackpropFilterDilated';

export function dilatedConv2dBackpropFilter({ inputs, attrs }: KernelArgs): TensorInfo {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  assertFloat(DILATED_FILTER_GRADIENT_KERNEL, [x, dy]);
  const { strides, dilations, pad, filterShape } = attrs as any;
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, dilations, pad, undefined, false, 'channelsLast');
  const [, , inChannels, outChannels] = filterShape as number[];
  return splitFilterGradient('adlConvFilterGrad', x, dy, geometry(info), filterShape, outChannels, denseWeight(inChannels, outChannels));
}

/** tfjs's `DepthwiseConv2dNativeBackpropFilter` (NHWC; any channel multiplier and dilation). */
export function depthwiseBackpropFilter({ inputs, attrs }: KernelArgs): TensorInfo {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  assertFloat('DepthwiseConv2dNativeBackpropFilter', [x, dy]);
  const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs as any;
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, dilations, pad, dimRoundingMode, true);
  const [, , inChannels, multiplier] = filterShape as number[];
  return splitFilterGradient('adlDepthwiseFilterGrad', x, dy, geometry(info), filterShape, inChannels * multiplier, `
      let outChannel = k % ${inChannels * multiplier};
      let inChannel = outChannel / u.multiplier;
      let tap = k / ${inChannels * multiplier};
      let tapRow = tap / u.filterWidth;
      let tapCol = tap % u.filterWidth;`);
}
