import * as tf from '@tensorflow/tfjs';

/**
 * `a · b` for 2-D tensors whose gradients use explicit transposes: tfjs's own matMul gradient calls
 * matMul with transpose flags, which the wasm backend runs 6–10× slower than a transpose followed by
 * a plain matMul (bench: [4096, 576]ᵀ · [4096, 64] takes 168 ms flagged, 28 ms transposed).
 */
export const matMul = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [savedA, savedB] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.matMul(dy as tf.Tensor2D, tf.transpose(savedB)), tf.matMul(tf.transpose(savedA), dy as tf.Tensor2D)];
    },
  };
}) as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;
