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

/**
 * The default size from which a network recomputes a cell (`recomputeMinOutputFloats` of `FixedNet` and
 * `SuperNet`): 2^18 floats (1 MiB) of cell output. Under it a cell's kept activations are a few MB and
 * the second forward pass costs more than the memory is worth. Measured (batch 2): a 129² retraining
 * step of autodeeplab-s (largest cell output 0.22M floats) ~8% faster without recomputation, a 96² L = 4
 * search step (46k) ~20% faster; the paper's sizes still recompute: at 769² every retrained cell
 * (≥ 1.0M), in a 321² L = 12 search the cells at strides 4 and 8 (0.53M, 0.27M), which hold most of
 * what recomputation saves.
 */
export const RECOMPUTE_MIN_OUTPUT_FLOATS = 2 ** 18;

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
