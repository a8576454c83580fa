import * as tf from '@tensorflow/tfjs';

/** The parts of a tfjs tape node this module reads (tfjs-core's `TapeNode`, not exported). */
interface TapeNode {
  outputs?: tf.Tensor[];
  saved?: tf.Tensor[];
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
  /** Set here once its `gradient` is wrapped, so that a node is not wrapped twice. */
  freesDuringBackward?: boolean;
}

/**
 * Returns `y`, having arranged that the backward pass of the gradient computation now recording
 * frees each op's saved tensors and the gradients of its outputs as soon as that op's gradient is
 * computed. tfjs keeps both until the whole backward pass ends, so its peak holds every saved
 * activation and, beside it, a gradient of every activation; freed as they are used, the peak is the
 * end of the forward pass. Call it on the value the function given to `tf.variableGrads` (or
 * `tf.engine().gradients`) returns. Not for higher-order gradients, which read the tape again.
 *
 * tfjs walks the tape backward calling each node's `gradient(dys)`, then the returned function of each
 * input on the path; when the next node's `gradient` is called, the previous node is done. Tensors a
 * node's gradient returned as they were (an op passing `dy` through) stay: they are now gradients
 * of other tensors. The gradient of `y` itself is the caller's and is never freed.
 */
export function freeDuringBackward<T extends tf.Tensor>(y: T): T {
  const tape = (tf.engine() as unknown as { state: { activeTape: TapeNode[] | null } }).state.activeTape;
  if (!tape) return y;
  let pending: tf.Tensor[] = [];
  let returned = new Set<tf.Tensor>();
  const freePending = () => {
    for (const tensor of pending) if (!returned.has(tensor)) tensor.dispose();
    pending = [];
    returned = new Set();
  };
  for (const node of tape) {
    const gradient = node.gradient;
    if (!gradient || node.freesDuringBackward) continue;
    node.freesDuringBackward = true;
    const producesY = node.outputs?.some((output) => output.id === y.id) ?? false;
    node.gradient = (dys) => {
      freePending();
      const inputGradients = gradient(dys);
      pending = [...(node.saved ?? []), ...(producesY ? [] : dys.filter((dy): dy is tf.Tensor => dy !== null))];
      return Object.fromEntries(
        Object.entries(inputGradients).map(([name, compute]) => [
          name,
          () => {
            const dx = compute();
            returned.add(dx);
            return dx;
          },
        ]),
      );
    };
  }
  return y;
}
