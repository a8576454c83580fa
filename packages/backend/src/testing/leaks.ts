import * as tf from '@tensorflow/tfjs';

/**
 * Runs `step` `repeats` times (after one warm-up call that may create lasting state) and throws if
 * the number of live tensors grew.
 */
export async function expectNoLeakedTensors(step: () => unknown, repeats = 3): Promise<void> {
  await step();
  const before = tf.memory().numTensors;
  for (let i = 0; i < repeats; i++) await step();
  const after = tf.memory().numTensors;
  if (after !== before) {
    throw new Error(`tensor leak: ${after - before} tensors more after ${repeats} repeated steps (${before} → ${after})`);
  }
}
