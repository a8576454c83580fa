import type * as tf from '@tensorflow/tfjs';
import type { Kernels } from '@adl/backend';
import { Module, type VariableOwner } from './module.js';

/** What every forward pass needs to know besides its input. */
export interface ForwardContext {
  /** Batch statistics and running-stat updates in BatchNorm when true. */
  readonly training: boolean;
  /** The convolution and pooling implementations to use (see `kernelsFor`). */
  readonly kernels: Kernels;
  /**
   * True while `recompute` runs a forward pass a second time for its gradient: BatchNorm uses the
   * batch statistics as before but does not update its running statistics again.
   */
  readonly recomputing?: boolean;
  /**
   * True in a pass differentiated for the architecture (α, β) only: recomputed blocks then take the
   * gradients of their inputs and not of the weights they read, which nothing would use.
   */
  readonly frozenWeights?: boolean;
  /** Scheduled drop path in a fixed network's cells (retraining only); absent: nothing is dropped. */
  readonly dropPath?: DropPathStep;
}

/** What one training step's drop path needs (see `scheduledKeepProb` in `@adl/cell`). */
export interface DropPathStep {
  /** The keep probability the schedule falls to in the last cell at the end of training. */
  readonly keepProb: number;
  /** Training progress, step / total steps (the step counted from 0). */
  readonly progress: number;
  /** Seeds this step's masks (each cell and op derive their own from it, so a resumed run draws the same). */
  readonly seed: number;
}

/** Parameter count and multiply-adds of one forward pass at batch 1. */
export interface Cost {
  readonly params: number;
  /** Multiply-adds of the convolutions (dense, depthwise, pointwise) at their output sizes. */
  readonly multAdds: number;
  /**
   * The same convolutions as TensorFlow 1 runs them, which is how DeepLab's published figures were
   * counted: an atrous convolution of rate r runs as space-to-batch → dense conv → batch-to-space,
   * and the dense conv computes every output dimension rounded up to a multiple of r (the extra rows
   * and columns are cropped afterwards). Equal to `multAdds` where no convolution is dilated.
   */
  readonly tfMultAdds: number;
}

/** A per-channel map y = x · scale + shift: what a BatchNorm computes in evaluation. */
export interface ChannelAffine {
  readonly scale: tf.Tensor1D;
  readonly shift: tf.Tensor1D;
}

/** A layer that in evaluation is a per-channel affine map (a BatchNorm). */
export interface EvaluationAffine {
  evaluationAffine(): ChannelAffine;
}

/** A layer that can take a following layer's evaluation affine map into its own work (a convolution: into its filter). */
export interface FoldsChannelAffine {
  applyFolding(x: tf.Tensor4D, following: EvaluationAffine, ctx: ForwardContext): tf.Tensor4D;
}

function foldsChannelAffine(layer: Layer): layer is Layer & FoldsChannelAffine {
  return 'applyFolding' in layer;
}

function isEvaluationAffine(layer: Layer | undefined): layer is Layer & EvaluationAffine {
  return layer !== undefined && 'evaluationAffine' in layer;
}

export const ZERO_COST: Cost = { params: 0, multAdds: 0, tfMultAdds: 0 };

export function addCosts(...costs: Cost[]): Cost {
  return costs.reduce(
    (sum, cost) => ({
      params: sum.params + cost.params,
      multAdds: sum.multAdds + cost.multAdds,
      tfMultAdds: sum.tfMultAdds + cost.tfMultAdds,
    }),
    ZERO_COST,
  );
}

/**
 * The cost of a convolution with `weightsPerPixel` multiply-adds per output pixel, producing an
 * `output`-sized map with dilation `dilation` (see `Cost.tfMultAdds`).
 */
export function convCost(params: number, weightsPerPixel: number, [height, width]: Size, dilation: number): Cost {
  const roundUp = (n: number) => Math.ceil(n / dilation) * dilation;
  return {
    params,
    multAdds: height * width * weightsPerPixel,
    tfMultAdds: roundUp(height) * roundUp(width) * weightsPerPixel,
  };
}

/** Spatial size `[height, width]` of an NHWC feature map. */
export type Size = readonly [height: number, width: number];

/**
 * A building block of the network: owns its variables (see `Module`), computes synchronously (call
 * it inside `tf.tidy`), and reports its cost analytically.
 */
export interface Layer extends VariableOwner {
  apply(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D;
  /** Parameters and multiply-adds for an input of spatial size `input`. */
  cost(input: Size): Cost;
  /** Spatial size of the output for an input of spatial size `input`. */
  outputSize(input: Size): Size;
}

/** Layers applied one after the other. */
export class Sequential extends Module implements Layer {
  protected readonly layers: readonly Layer[];

  constructor(layers: readonly Layer[]) {
    super();
    this.layers = this.addChildren(layers);
  }

  apply(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
    return this.applyFrom(0, x, ctx);
  }

  /** Its first layer: a mixed op computes the leading ReLU its candidates share once. */
  get first(): Layer {
    return this.layers[0]!;
  }

  /** The layers after the first, applied to `x`: the first layer's output, computed by the caller. */
  applyAfterFirst(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
    return this.applyFrom(1, x, ctx);
  }

  private applyFrom(start: number, x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
    let out = x;
    const layers = this.layers.slice(start);
    for (let i = 0; i < layers.length; i++) {
      const [layer, following] = [layers[i]!, layers[i + 1]];
      let next: tf.Tensor4D;
      if (!ctx.training && foldsChannelAffine(layer) && isEvaluationAffine(following)) {
        // In evaluation a conv's BatchNorm is folded into it: one pass over the output fewer.
        next = layer.applyFolding(out, following, ctx);
        i++;
      } else {
        next = layer.apply(out, ctx);
      }
      // In inference no gradient reads the intermediates: each goes once the next layer has read it.
      if (!ctx.training && out !== x && next !== out) out.dispose();
      out = next;
    }
    return out;
  }

  cost(input: Size): Cost {
    let size = input;
    let total = ZERO_COST;
    for (const layer of this.layers) {
      total = addCosts(total, layer.cost(size));
      size = layer.outputSize(size);
    }
    return total;
  }

  outputSize(input: Size): Size {
    return this.layers.reduce((size, layer) => layer.outputSize(size), input);
  }
}
