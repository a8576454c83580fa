import * as tf from '@tensorflow/tfjs';
import { freeDuringBackward } from './free-during-backward.js';
import type { ForwardContext } from './layer.js';

/**
 * `f(inputs)` without keeping its intermediate tensors for the backward pass (gradient
 * checkpointing): the forward pass runs in a tidy that frees everything but the output, and the
 * backward pass runs `f` again under a tape and differentiates it. Gradients flow to `inputs` and to
 * `variables` (the weights `f` reads), exactly as without recomputation, for one more forward pass
 * of compute. `f` gets a context with `recomputing: true` the second time (BatchNorm then does not
 * update its running statistics twice); it must otherwise be deterministic. Under `ctx.frozenWeights`
 * the weights are constants: only the inputs are differentiated.
 */
export function recompute(
  f: (inputs: readonly tf.Tensor[], ctx: ForwardContext) => tf.Tensor4D,
  inputs: readonly tf.Tensor[],
  variables: readonly tf.Variable[],
  ctx: ForwardContext,
): tf.Tensor4D {
  const differentiated = ctx.frozenWeights ? [] : variables;
  const sources: tf.Tensor[] = [...inputs, ...differentiated];
  const run = tf.customGrad((...args: unknown[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const value = tf.tidy(() => f(args.slice(0, inputs.length) as tf.Tensor[], ctx));
    // The forward tidy of a gradient computation frees every intermediate tensor, the inputs of
    // this function among them, unless saved for the backward pass.
    save(args.slice(0, inputs.length) as tf.Tensor[]);
    const gradFunc = (dy: tf.Tensor, xs: tf.Tensor[]) =>
      tf.tidy(() => {
        const again = { ...ctx, recomputing: true };
        // This runs inside the outer backward pass. A nested gradients() starts its own tape and
        // drops it at the end (activeTape = null), which would also drop the outer tape that the
        // outer pass still walks afterwards to free its saved tensors: keep and restore it.
        const state = (tf.engine() as unknown as { state: { activeTape: unknown } }).state;
        const outerTape = state.activeTape;
        try {
          // allowNoGradients: a weight that f does not reach (a disabled branch) gets zeros.
          const all = [...xs, ...differentiated];
          const { grads } = tf.engine().gradients(() => freeDuringBackward(f(xs, again)), all, dy, true);
          return grads.map((g, i) => g ?? tf.zerosLike(all[i]));
        } finally {
          state.activeTape = outerTape;
        }
      });
    return { value, gradFunc };
  });
  return run(...sources) as tf.Tensor4D;
}

/** `recompute(f, …)` when `enabled` and training (evaluation keeps nothing for a backward pass); else `f` as is. */
export function maybeRecompute(
  enabled: boolean,
  f: (inputs: readonly tf.Tensor[], ctx: ForwardContext) => tf.Tensor4D,
  inputs: readonly tf.Tensor[],
  variables: readonly tf.Variable[],
  ctx: ForwardContext,
): tf.Tensor4D {
  return enabled && ctx.training ? recompute(f, inputs, variables, ctx) : f(inputs, ctx);
}
