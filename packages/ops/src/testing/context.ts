import * as tf from '@tensorflow/tfjs';
import { kernelsFor } from '@adl/backend';
import type { ForwardContext } from '../layer.js';

/** Training mode with the kernel set of the current backend. */
export function trainingContext(): ForwardContext {
  return { training: true, kernels: kernelsFor(tf.getBackend()) };
}
