import * as tf from '@tensorflow/tfjs';

/** A tensor's values read at trace time (a weight, or anything computed from weights alone). */
export interface ConstantValue {
  readonly shape: number[];
  readonly dtype: tf.DataType;
  readonly values: tf.TypedArray;
}

/** One tfjs kernel call that depends on the traced input. Tensors are named by tfjs id. */
export interface TracedKernel {
  readonly kernelName: string;
  /** Input ids in the kernel's order (tfjs's input names, or positions for list inputs such as Concat's). */
  readonly inputs: readonly number[];
  readonly inputShapes: readonly number[][];
  readonly attrs: tf.NamedAttrMap;
  readonly outputs: readonly number[];
  readonly outputShapes: readonly number[][];
}

export interface Trace {
  readonly inputId: number;
  readonly outputId: number;
  readonly outputShape: number[];
  readonly kernels: readonly TracedKernel[];
  /** Values of the constant inputs the traced kernels read, by id. */
  readonly constants: ReadonlyMap<number, ConstantValue>;
}

/**
 * Runs `forward` on `input` once and records every top-level tfjs kernel call that depends on the
 * input. Calls on constants alone (BatchNorm's folding of its statistics, interpolation matrices) are
 * folded: their results become constants. The graph is as large as the input: shapes are concrete.
 * The constants are read after the pass, asynchronously: WebGPU in Node cannot read synchronously.
 */
export async function traceKernels(input: tf.Tensor, forward: (x: tf.Tensor) => tf.Tensor): Promise<Trace> {
  const engine = tf.engine() as unknown as { runKernel: (name: string, inputs: tf.NamedTensorMap, attrs?: tf.NamedAttrMap) => tf.Tensor | tf.Tensor[] };
  const runKernel = engine.runKernel;
  const dynamic = new Set<number>([input.id]);
  const constants = new Map<number, ConstantValue>();
  /** The constant inputs, kept past the pass's scope until read. */
  const constantTensors = new Map<number, tf.Tensor>();
  const kernels: TracedKernel[] = [];
  let depth = 0;
  engine.runKernel = function (kernelName, inputs, attrs) {
    depth++;
    let result: tf.Tensor | tf.Tensor[];
    try {
      result = runKernel.call(this, kernelName, inputs, attrs);
    } finally {
      depth--;
    }
    if (depth > 0) return result;
    const inputList = (Object.values(inputs) as (tf.Tensor | tf.Tensor[])[]).flat();
    const outputs = Array.isArray(result) ? result : [result];
    if (inputList.some((t) => dynamic.has(t.id))) {
      for (const t of inputList) {
        if (!dynamic.has(t.id) && !constantTensors.has(t.id)) constantTensors.set(t.id, tf.keep(t.clone()));
      }
      for (const t of outputs) dynamic.add(t.id);
      kernels.push({
        kernelName,
        inputs: inputList.map((t) => t.id),
        inputShapes: inputList.map((t) => [...t.shape]),
        attrs: { ...(attrs ?? {}) },
        outputs: outputs.map((t) => t.id),
        outputShapes: outputs.map((t) => [...t.shape]),
      });
    }
    return result;
  };
  let output: { id: number; shape: number[] } | undefined;
  try {
    // Nothing but tensors leaves the scope: tidy would walk a returned object's typed arrays.
    tf.tidy(() => {
      const result = forward(input);
      output = { id: result.id, shape: [...result.shape] };
    });
  } finally {
    engine.runKernel = runKernel;
  }
  try {
    for (const [id, t] of constantTensors) constants.set(id, { shape: [...t.shape], dtype: t.dtype, values: (await t.data()) as tf.TypedArray });
  } finally {
    tf.dispose([...constantTensors.values()]);
  }
  if (!output || !dynamic.has(output.id)) throw new Error('the traced output does not depend on the input');
  return { inputId: input.id, outputId: output.id, outputShape: output.shape, kernels, constants };
}
