import * as tf from '@tensorflow/tfjs';
import { BackendError, catchGpuErrors, releaseShapeOnlySaves, shareSavedTensors } from '@adl/backend';
import { crossEntropyIgnoring, freeDuringBackward, type ForwardContext } from '@adl/ops';

export class NonFiniteLossError extends Error {
  override name = 'NonFiniteLossError';
}

/**
 * A run stopped because its loss or a variable became NaN or infinite; the message names the step and
 * the last good checkpoint (nothing non-finite is ever written).
 */
export class DivergenceError extends Error {
  override name = 'DivergenceError';
}

/** Anything that maps images to logits at their size. */
export interface SegmentationModel {
  apply(images: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D;
}

export interface GradientOptimizer {
  apply(gradients: readonly tf.Tensor[], learningRate: number): void;
}

/**
 * One optimisation step of `variables` on a batch (the variable list is explicit, so the two levels
 * of the search never touch each other's parameters). Returns the loss before the update; a NaN or
 * infinite loss throws before anything is changed. The loss is read asynchronously: a GPU backend
 * (WebGPU) cannot read synchronously, and the read is the step's only GPU→CPU transfer. A WebGPU
 * error during the step (an invalid dispatch writes nothing, silently) throws a `BackendError`.
 */
export async function trainStep(
  model: SegmentationModel,
  variables: readonly tf.Variable[],
  optimizer: GradientOptimizer,
  images: tf.Tensor4D,
  labels: tf.Tensor3D,
  learningRate: number,
  ctx: ForwardContext,
  where: string,
): Promise<number> {
  releaseShapeOnlySaves();
  shareSavedTensors();
  const endGpuCatch = catchGpuErrors();
  const gpuFailure = async () => {
    const error = await endGpuCatch();
    return error ? new BackendError(`WebGPU error at ${where}: ${error} (its results are wrong, so the run stops)`) : null;
  };
  const optimise = async () => {
    const { value, grads } = tf.variableGrads(() => freeDuringBackward(crossEntropyIgnoring(model.apply(images, ctx), labels)), [...variables]);
    try {
      const loss = (await value.data())[0];
      if (!Number.isFinite(loss)) throw new NonFiniteLossError(`loss is ${loss} at ${where}`);
      optimizer.apply(
        variables.map((v) => grads[v.name]),
        learningRate,
      );
      return loss;
    } finally {
      tf.dispose([value, ...Object.values(grads)]);
    }
  };
  let loss: number;
  try {
    loss = await optimise();
  } catch (error) {
    throw (await gpuFailure()) ?? error;
  }
  const failure = await gpuFailure();
  if (failure) throw failure;
  return loss;
}
