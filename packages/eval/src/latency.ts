import * as tf from '@tensorflow/tfjs';
import type { Kernels } from '@adl/backend';
import type { InferenceModel } from './model.js';

export interface LatencyResult {
  readonly height: number;
  readonly width: number;
  readonly runs: number;
  readonly medianMs: number;
  readonly meanMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly imagesPerSecond: number;
  readonly backend: string;
}

/**
 * Forward latency of `model` for one image of `height × width` in evaluation mode on the current
 * backend: `warmup` untimed runs (kernel compilation, allocation), then `runs` timed runs, each
 * waiting for the logits to be read back.
 */
export async function measureLatency(model: InferenceModel, { height, width, kernels, warmup = 1, runs = 5 }: { height: number; width: number; kernels: Kernels; warmup?: number; runs?: number }): Promise<LatencyResult> {
  const x = tf.randomNormal([1, height, width, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  const once = async () => {
    const started = performance.now();
    const logits = model.apply(x, { training: false, kernels });
    await logits.data();
    logits.dispose();
    return performance.now() - started;
  };
  for (let i = 0; i < warmup; i++) await once();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await once());
  x.dispose();
  const sorted = [...times].sort((a, b) => a - b);
  const medianMs = sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
  const meanMs = times.reduce((s, t) => s + t, 0) / times.length;
  return { height, width, runs, medianMs, meanMs, minMs: sorted[0], maxMs: sorted[sorted.length - 1], imagesPerSecond: 1000 / medianMs, backend: tf.getBackend() };
}
