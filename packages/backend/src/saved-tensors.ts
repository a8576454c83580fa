import * as tf from '@tensorflow/tfjs';

/** Backends whose Identity kernel shares its input's data (wasm's copies it, so keeps tfjs's clone). */
const SHARING_IDENTITY: ReadonlySet<string> = new Set(['cpu', 'onednn', 'webgpu', 'webgl']);

interface EngineInternals {
  clone(x: tf.Tensor): tf.Tensor;
  makeTensorFromTensorInfo(info: { dataId: object; shape: number[]; dtype: tf.DataType }, backend: tf.KernelBackend): tf.Tensor;
  backendName: string;
  state: { gradientDepth: number; tensorInfo: WeakMap<object, { backend: tf.KernelBackend }> };
}

let installed = false;

/**
 * From now on, a tensor saved for a gradient shares its data without a kernel call where no gradient
 * of a gradient is being recorded. tfjs saves each one (the inputs and outputs a registered gradient
 * reads, and what a `customGrad` saves) by an Identity kernel call and two tape nodes, which exist
 * only so that a recorded backward pass can trace the saved tensor back to its source: 67,765 of the
 * 227,857 kernel calls of a search step (L = 4, 96²). At gradient depth 1 the backward pass is not
 * recorded, so the saved tensor is made directly, with the data shared as Identity shares it. Values
 * and gradients are unchanged, bit for bit.
 */
export function shareSavedTensors(): void {
  if (installed) return;
  installed = true;
  const engine = tf.engine() as unknown as EngineInternals;
  const clone = engine.clone.bind(engine);
  // tfjs calls `clone` only to save tensors for the backward pass (`tf.clone` runs Identity itself).
  engine.clone = (x: tf.Tensor) => {
    const backend = engine.state.tensorInfo.get(x.dataId)?.backend;
    if (engine.state.gradientDepth !== 1 || backend === undefined || !SHARING_IDENTITY.has(engine.backendName) || backend !== tf.backend()) return clone(x);
    backend.incRef(x.dataId);
    return engine.makeTensorFromTensorInfo({ dataId: x.dataId, shape: x.shape, dtype: x.dtype }, backend);
  };
}
