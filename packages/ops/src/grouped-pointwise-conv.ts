import * as tf from '@tensorflow/tfjs';
import type { Rng } from '@adl/backend';
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
    const [n, h, w] = x.shape;
    const byGroup = tf.transpose(tf.reshape(x, [n * h * w, this.groups, this.inChannels]), [1, 0, 2]);
    const out = tf.matMul(byGroup, this.filter);
    return tf.reshape(tf.transpose(out, [1, 0, 2]), [n, h, w, this.groups * this.outChannels]);
  }

  outputSize(input: Size): Size {
    return input;
  }

  cost(input: Size): Cost {
    const weights = this.groups * this.inChannels * this.outChannels;
    return convCost(weights, weights, input, 1);
  }
}
