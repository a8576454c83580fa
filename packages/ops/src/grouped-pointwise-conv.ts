import * as tf from '@tensorflow/tfjs';
import { FILTER_GRADIENT_ROWS, type Rng } from '@adl/backend';
import { heNormal } from './conv2d.js';
import { convCost, type Cost, type Layer, type Size } from './layer.js';
import { Module } from './module.js';
import { newVariable } from './new-variable.js';

/**
 * G independent 1×1 convolutions side by side, without bias: input channels `g·in … (g+1)·in` go
 * through filter g (`[G, in, out]`) to output channels `g·out … (g+1)·out`. The pointwise convs of
 * the separable ops of several search edges, run as one batched matMul.
 */
export class GroupedPointwiseConv extends Module implements Layer {
  readonly filter: tf.Variable<tf.Rank.R3>;

  constructor(
    readonly groups: number,
    readonly inChannels: number,
    readonly outChannels: number,
    rng: Rng,
  ) {
    super();
    this.filter = this.addWeight(newVariable(() => heNormal(rng, [groups, inChannels, outChannels], inChannels) as tf.Tensor3D));
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    return groupedPointwise(x, this.filter);
  }

  outputSize(input: Size): Size {
    return input;
  }

  cost(input: Size): Cost {
    const weights = this.groups * this.inChannels * this.outChannels;
    return convCost(weights, weights, input, 1);
  }
}

/** `x` `[N, H, W, G·in]` through `filter` `[G, in, out]`, group by group, as one batched matMul each way. */
function groupedPointwise(x: tf.Tensor4D, filter: tf.Tensor3D): tf.Tensor4D {
  const [n, h, w] = x.shape;
  const [groups, inChannels, outChannels] = filter.shape;
  const pixels = n * h * w;
  const byGroup = (t: tf.Tensor, channels: number) => tf.transpose(tf.reshape(t, [pixels, groups, channels]), [1, 0, 2]) as tf.Tensor3D;
  const toNhwc = (t: tf.Tensor, channels: number) => tf.reshape(tf.transpose(t, [1, 0, 2]), [n, h, w, groups * channels]) as tf.Tensor4D;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, weights, save] = args as [tf.Tensor4D, tf.Tensor3D, tf.GradSaveFunc];
    const grouped = byGroup(input, inChannels);
    save([grouped, weights]);
    return {
      value: toNhwc(tf.matMul(grouped, weights), outChannels),
      gradFunc: (dy: tf.Tensor, [saved, savedWeights]: tf.Tensor[]) => {
        const dyGrouped = byGroup(dy, outChannels);
        return [toNhwc(tf.matMul(dyGrouped, savedWeights, false, true), inChannels), filterGradient(saved as tf.Tensor3D, dyGrouped)];
      },
    };
  });
  return op(x, filter) as tf.Tensor4D;
}

/**
 * `Σ_p x[g, p, :]ᵀ · dy[g, p, :]` over the pixels, in chunks of at most `FILTER_GRADIENT_ROWS` summed in
 * order: a GPU runs a batched matMul with one thread per output element, and the filter's are few
 * (E·C·C), so over the 13,122 pixels of a 321² search at stride 4 each would loop that long.
 */
function filterGradient(x: tf.Tensor3D, dy: tf.Tensor3D): tf.Tensor3D {
  const [groups, pixels, inChannels] = x.shape;
  const outChannels = dy.shape[2];
  const chunks = Math.ceil(pixels / FILTER_GRADIENT_ROWS);
  if (chunks === 1) return tf.matMul(x, dy, true, false);
  const rows = Math.ceil(pixels / chunks);
  const chunked = (t: tf.Tensor3D, channels: number) => tf.reshape(tf.pad(t, [[0, 0], [0, chunks * rows - pixels], [0, 0]]), [groups * chunks, rows, channels]);
  const perChunk = tf.matMul(chunked(x, inChannels), chunked(dy, outChannels), true, false);
  return tf.sum(tf.reshape(perChunk, [groups, chunks, inChannels, outChannels]), 1) as tf.Tensor3D;
}
