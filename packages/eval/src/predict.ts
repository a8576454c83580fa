import * as tf from '@tensorflow/tfjs';
import { IMAGENET_MEAN, IMAGENET_STD, type RasterImage } from '@adl/data-cityscapes';
import { resizeBilinear } from '@adl/ops';
import type { Kernels } from '@adl/backend';
import type { InferenceModel } from './model.js';

export interface PredictOptions {
  readonly kernels: Kernels;
  /** Input scales whose class probabilities are averaged (DeepLab's multi-scale test: 0.75, 1, 1.25 …). */
  readonly scales?: readonly number[];
  /** Also average the horizontally flipped input's probabilities. */
  readonly flip?: boolean;
  readonly mean?: readonly [number, number, number];
  readonly std?: readonly [number, number, number];
}

/** An RGB image as a normalised [1, H, W, 3] tensor. */
export function imageTensor(image: RasterImage, mean: readonly number[] = IMAGENET_MEAN, std: readonly number[] = IMAGENET_STD): tf.Tensor4D {
  const pixels = new Float32Array(image.width * image.height * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (image.data[i] - mean[i % 3]) / std[i % 3];
  return tf.tensor4d(pixels, [1, image.height, image.width, 3]);
}

/**
 * Per-pixel train ids of a whole image in evaluation mode. With several scales and/or flip, the
 * softmax probabilities of every variant, resized back to the image size, are averaged before the
 * arg-max (as DeepLab's multi-scale inference).
 */
export async function predictTrainIds(model: InferenceModel, image: RasterImage, options: PredictOptions): Promise<Int32Array> {
  const { kernels, scales = [1], flip = false } = options;
  const ctx = { training: false, kernels };
  const prediction = tf.tidy(() => {
    const x = imageTensor(image, options.mean, options.std);
    const size: [number, number] = [image.height, image.width];
    let sum: tf.Tensor4D | undefined;
    for (const scale of scales) {
      const scaled: [number, number] = [Math.max(1, Math.round(image.height * scale)), Math.max(1, Math.round(image.width * scale))];
      const input = scale === 1 ? x : resizeBilinear(x, scaled);
      for (const flipped of flip ? [false, true] : [false]) {
        let logits = model.apply(flipped ? tf.reverse(input, 2) : input, ctx);
        if (flipped) logits = tf.reverse(logits, 2);
        if (scale !== 1) logits = resizeBilinear(logits, size);
        const probabilities = tf.softmax(logits) as tf.Tensor4D;
        sum = sum ? (tf.add(sum, probabilities) as tf.Tensor4D) : probabilities;
      }
    }
    return tf.argMax(sum!, 3).reshape([image.height * image.width]);
  });
  const ids = (await prediction.data()) as Int32Array;
  prediction.dispose();
  return ids;
}
