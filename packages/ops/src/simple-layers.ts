import * as tf from '@tensorflow/tfjs';
import { RELU_GRAD_KERNEL } from '@adl/backend';
import { Sequential, ZERO_COST, type Cost, type ForwardContext, type Layer, type Size } from './layer.js';
import { Module } from './module.js';

/** Base for layers without variables (keeping the spatial size unless they override it). */
export abstract class StatelessLayer extends Module implements Layer {
  abstract apply(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D;

  cost(): Cost {
    return ZERO_COST;
  }

  outputSize(input: Size): Size {
    return input;
  }
}

/**
 * ReLU whose gradient reads its output rather than its input (tfjs's saves the input): y > 0 exactly
 * where x > 0, so the gradient is the same bit for bit, and the output is the tensor the next op
 * (a convolution) saves anyway; the input, often a BatchNorm output nothing else needs, can go.
 */
export const reluSavingOutput = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
  const y = tf.relu(x);
  save([y]);
  return { value: y, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => reluGradient(dy, saved[0]) };
}) as (x: tf.Tensor4D) => tf.Tensor4D;

/** dy · step(y): one kernel on backends that register it, a Step and a Multiply elsewhere. */
function reluGradient(dy: tf.Tensor, y: tf.Tensor): tf.Tensor {
  if (tf.getKernel(RELU_GRAD_KERNEL, tf.getBackend()) !== undefined) return tf.engine().runKernel(RELU_GRAD_KERNEL, { dy, y }, {}) as tf.Tensor;
  return tf.mul(dy, tf.step(y));
}

export class Relu extends StatelessLayer {
  apply(x: tf.Tensor4D): tf.Tensor4D {
    return reluSavingOutput(x);
  }
}

/**
 * Whether `layer` starts with a ReLU: where several such layers read one tensor (a mixed op's
 * candidates, a cell's ops on one state), the caller computes the ReLU once and applies each after it.
 */
export function startsWithRelu(layer: Layer): layer is Sequential {
  return layer instanceof Sequential && layer.first instanceof Relu;
}

/** `skip_connect` at stride 1. */
export class Identity extends StatelessLayer {
  apply(x: tf.Tensor4D): tf.Tensor4D {
    return x;
  }
}

/** `none`: the absent edge. Mixed ops skip it without computing; here for completeness. */
export class Zero extends StatelessLayer {
  apply(x: tf.Tensor4D): tf.Tensor4D {
    return tf.zerosLike(x);
  }
}

export class MaxPool3x3 extends StatelessLayer {
  apply(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
    return ctx.kernels.maxPool3x3(x);
  }
}

export class AvgPool3x3 extends StatelessLayer {
  apply(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
    return ctx.kernels.avgPool3x3(x);
  }
}
