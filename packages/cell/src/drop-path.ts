import * as tf from '@tensorflow/tfjs';
import { Rng } from '@adl/backend';

/**
 * Scheduled drop path's keep probability (design §7; DeepLab NAS `nas_cell.py`, `_apply_drop_path`):
 * it falls linearly with depth, to `keepProb` at the last cell, and that falls linearly with training
 * progress, from 1 at the first step to the depth-scaled value at the last. `cell` counts from 0;
 * `progress` is step / total steps, the step counted from 0 (capped at 1).
 */
export function scheduledKeepProb(keepProb: number, cell: number, cells: number, progress: number): number {
  const depthKeep = 1 - ((cell + 1) / cells) * (1 - keepProb);
  return 1 - Math.min(1, progress) * (1 - depthKeep);
}

/**
 * Drops whole samples of `x` with probability 1 − keep and scales the kept ones by 1 / keep, so the
 * expectation is unchanged: a sample is kept when ⌊keep + u⌋ = 1, u uniform in [0, 1).
 */
export function dropPath(x: tf.Tensor4D, keep: number, rng: Rng): tf.Tensor4D {
  if (keep >= 1) return x;
  const scale = Float32Array.from({ length: x.shape[0] }, () => Math.floor(keep + rng.next()) / keep);
  return tf.mul(x, tf.tensor4d(scale, [x.shape[0], 1, 1, 1]));
}

/** The generator of one op's mask at one step: a function of the step's seed, the cell and the op only. */
export function dropPathRng(stepSeed: number, cell: number, op: number): Rng {
  return new Rng((Math.imul(stepSeed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(cell + 1, 0xc2b2ae35) + Math.imul(op + 1, 0x27d4eb2f)) >>> 0);
}
