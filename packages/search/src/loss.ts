import * as tf from '@tensorflow/tfjs';

/**
 * Pixel-wise cross-entropy averaged over the pixels whose label is not `ignoreIndex` (design §5).
 * `logits` [N, H, W, K]; `labels` int32 [N, H, W].
 */
export function crossEntropyIgnoring(logits: tf.Tensor4D, labels: tf.Tensor3D, ignoreIndex = 255): tf.Scalar {
  return tf.tidy(() => {
    const classes = logits.shape[3];
    const valid = tf.cast(tf.notEqual(labels, ignoreIndex), 'float32');
    const safeLabels = tf.mul(labels, tf.cast(valid, 'int32')) as tf.Tensor3D;
    const logProbabilities = tf.logSoftmax(logits);
    const picked = tf.sum(tf.mul(tf.oneHot(safeLabels, classes), logProbabilities), 3);
    return tf.div(tf.neg(tf.sum(tf.mul(picked, valid))), tf.maximum(tf.sum(valid), 1)) as tf.Scalar;
  });
}
