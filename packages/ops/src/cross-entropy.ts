import * as tf from '@tensorflow/tfjs';
import { CROSS_ENTROPY_KERNELS } from '@adl/backend';

/**
 * Pixel-wise cross-entropy averaged over the pixels whose label is not `ignoreIndex` (design §5).
 * `logits` [N, H, W, K]; `labels` int32 [N, H, W].
 *
 * One tape node with its own gradient, (softmax − one-hot) · valid / count: autodiff through
 * log-softmax, one-hot and the masked mean would keep several [N, H, W, K] tensors for the backward
 * pass, and at the paper's crop each is 45 MB per image; this keeps only the log-probabilities and the labels.
 * On a backend that registers `CROSS_ENTROPY_KERNELS` (onednn), one kernel each way instead, keeping the
 * logits and the labels (a 129² retraining step's loss and its gradient: 40.7 ms through tfjs's kernels,
 * 11.4 ms as the two, of which the kernels themselves ~4 ms).
 */
export function crossEntropyIgnoring(logits: tf.Tensor4D, labels: tf.Tensor3D, ignoreIndex = 255): tf.Scalar {
  if (logits.dtype === 'float32' && labels.dtype === 'int32' && tf.getKernel(CROSS_ENTROPY_KERNELS.forward, tf.getBackend()) !== undefined) {
    return tf.engine().runKernel(CROSS_ENTROPY_KERNELS.forward, { logits, labels }, { ignoreIndex }) as tf.Scalar;
  }
  const classes = logits.shape[3];
  const masked = (pixelLabels: tf.Tensor) => {
    const valid = tf.cast(tf.notEqual(pixelLabels, ignoreIndex), 'float32');
    const oneHot = tf.oneHot(tf.mul(pixelLabels, tf.cast(valid, 'int32')) as tf.Tensor3D, classes);
    return { valid, oneHot, count: tf.maximum(tf.sum(valid), 1) };
  };
  const loss = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, y, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const { valid, oneHot, count } = masked(y);
    const logProbabilities = tf.logSoftmax(x);
    const picked = tf.sum(tf.mul(oneHot, logProbabilities), 3);
    save([logProbabilities, y]);
    return {
      value: tf.div(tf.neg(tf.sum(tf.mul(picked, valid))), count),
      // Tidied here: tfjs runs a custom gradient outside any scope that ends before the backward pass does.
      gradFunc: (dy: tf.Tensor, [savedLogProbabilities, savedLabels]: tf.Tensor[]) =>
        tf.tidy(() => {
          const again = masked(savedLabels);
          const weight = tf.expandDims(tf.div(tf.mul(again.valid, dy), again.count), 3);
          return [tf.mul(tf.sub(tf.exp(savedLogProbabilities), again.oneHot), weight), tf.zeros(savedLabels.shape)];
        }),
    };
  });
  return loss(logits, labels) as tf.Scalar;
}
