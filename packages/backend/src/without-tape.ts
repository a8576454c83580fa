import * as tf from '@tensorflow/tfjs';

/**
 * `f()` with gradient recording off: for work inside a differentiated function that no gradient reads
 * (a BatchNorm's running statistics). Recorded, such work only costs: tfjs's gradient computation
 * (`getFilteredNodesXToY`) scans every recorded input that does not depend on the sources against each
 * source in turn, and a running-statistics update reads one (the running mean or variance) per call.
 * Measured on a 129² retraining step of autodeeplab-s: 480 updates × 890 variables, 24 ms of ~400.
 */
export function withoutTape<T>(f: () => T): T {
  // tfjs records a kernel call only while gradientDepth > 0 (Engine.isTapeOn).
  const state = (tf.engine() as unknown as { state: { gradientDepth: number } }).state;
  const depth = state.gradientDepth;
  state.gradientDepth = 0;
  try {
    return f();
  } finally {
    state.gradientDepth = depth;
  }
}
