import * as tf from '@tensorflow/tfjs';
import { addCosts, assignValues, ATROUS_RATE, BatchNorm, DepthwiseConv2d, GroupedPointwiseConv, maybeRecompute, Module, PRIMITIVES, Relu, ReluConvBn, reluSavingOutput, Sequential, type Cost, type ForwardContext, type Size } from '@adl/ops';
import { Rng } from '@adl/backend';
import type { MixedOp } from './mixed-op.js';

/**
 * The E mixed ops of a search cell that read one hidden state, computed as one wide op (design §3):
 * the result holds edge e's `Σ_k softmax(α_e)_k · op_k(x)` in channels `e·C … (e+1)·C`. What is the
 * same for every edge runs once: the ReLU, the pools and the non-affine BN after them (their running
 * statistics too, so one pair per pool is kept). The convolutions of the E edges run side by side:
 * atrous filters concatenated along output channels, depthwise filters along channels (on the input
 * repeated E times), pointwise convs as one batched matMul, each BN over all E·C channels. Every
 * edge keeps its own weights and statistics, laid out edge after edge; `stackPerEdge` converts the
 * per-edge `MixedOp`s' values to this layout (and builds the initial values from them, so that a
 * seed gives the same network either way).
 */
export class StateEdges extends Module {
  /** E: how many edges read the state. */
  readonly count: number;
  readonly channels: number;
  readonly recompute: boolean;
  private readonly maxPoolNorm: BatchNorm;
  private readonly avgPoolNorm: BatchNorm;
  /** sep_conv_3×3 and 5×5 after their first ReLU, on the input repeated E times. */
  private readonly sepConvs: readonly Sequential[];
  /** atrous_conv_3×3 and 5×5 (ReLU, conv C → E·C, BN). */
  private readonly atrousConvs: readonly ReluConvBn[];

  /** From the per-edge mixed ops of the edges reading one state, in the order of their blocks; they are left as they are. */
  constructor(edges: readonly MixedOp[], { recompute = false }: { recompute?: boolean } = {}) {
    super();
    const channels = edges[0].channels;
    if (edges.some((edge) => edge.channels !== channels || edge.partialChannels !== 1)) {
      throw new RangeError('StateEdges takes mixed ops of equal channels without partial channels');
    }
    this.count = edges.length;
    this.channels = channels;
    this.recompute = recompute;
    const width = this.count * channels;
    // Values are assigned from `edges` below.
    const rng = new Undrawn(0);
    this.maxPoolNorm = this.addChild(new BatchNorm(channels, { affine: false }));
    this.avgPoolNorm = this.addChild(new BatchNorm(channels, { affine: false }));
    this.sepConvs = this.addChildren([3, 5].map((kernel) => {
      const half = () => [new DepthwiseConv2d(width, kernel, 1, rng), new GroupedPointwiseConv(this.count, channels, channels, rng), new BatchNorm(width, { affine: false })];
      return new Sequential([...half(), new Relu(), ...half()]);
    }));
    this.atrousConvs = this.addChildren([3, 5].map((kernel) => new ReluConvBn({ inChannels: channels, outChannels: width, kernel, dilation: ATROUS_RATE, affine: false, rng })));
    assignValues(this.trainableVariables(), stackPerEdge(edges.map((edge) => edge.trainableVariables()), this.trainableVariables(), this.count));
    assignValues(this.stateVariables(), stackPerEdge(edges.map((edge) => edge.stateVariables()), this.stateVariables(), this.count));
  }

  /**
   * `weights`: the E edges' softmax(α) rows, `[E, 8]`. Returns `[N, H, W, E·C]`, edge e's mixed op in
   * channels `e·C … (e+1)·C`.
   */
  apply(x: tf.Tensor4D, weights: tf.Tensor2D, ctx: ForwardContext): tf.Tensor4D {
    if (weights.shape[0] !== this.count) throw new RangeError(`${this.count} edges read this state, got ${weights.shape[0]} α rows`);
    // The activations of the 7·E ops are many times the input: recomputed, not kept.
    return maybeRecompute(this.recompute, ([input, w], c) => this.forward(input as tf.Tensor4D, w as tf.Tensor2D, c), [x, weights], this.trainableVariables(), ctx);
  }

  private forward(x: tf.Tensor4D, weights: tf.Tensor2D, ctx: ForwardContext): tf.Tensor4D {
    const activated = reluSavingOutput(x);
    const repeated = repeatChannels(activated, this.count);
    // In the order of PRIMITIVES after `none` (asserted below): pools, skip, separable, atrous.
    const terms = [
      this.maxPoolNorm.apply(ctx.kernels.maxPool3x3(x), ctx),
      this.avgPoolNorm.apply(ctx.kernels.avgPool3x3(x), ctx),
      x,
      ...this.sepConvs.map((op) => op.apply(repeated, ctx)),
      ...this.atrousConvs.map((op) => op.applyAfterFirst(activated, ctx)),
    ];
    return ctx.kernels.edgeWeightedSum(terms, tf.slice(weights, [0, 1], [this.count, terms.length]));
  }

  /** The cost of the E edges' candidate ops (as E `MixedOp`s). */
  cost(input: Size): Cost {
    return addCosts(...this.sepConvs.map((op) => op.cost(input)), ...this.atrousConvs.map((op) => op.cost(input)));
  }
}

if (PRIMITIVES.join() !== 'none,max_pool_3x3,avg_pool_3x3,skip_connect,sep_conv_3x3,sep_conv_5x5,atrous_conv_3x3,atrous_conv_5x5') {
  throw new Error('StateEdges expects the primitives in design §2 order');
}

/**
 * `[N, H, W, C]` → `[N, H, W, E·C]`, the C channels once per edge: a concatenation (one native
 * kernel where tfjs's tile is a JavaScript loop); the gradient sums the E copies in one reduction
 * (a concatenation's takes a split and an add per copy).
 */
function repeatChannels(x: tf.Tensor4D, edges: number): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const repeat = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.concat(Array.from({ length: edges }, () => args[0] as tf.Tensor), 3),
    gradFunc: (dy: tf.Tensor) => tf.reshape(tf.sum(tf.reshape(dy, [n * h * w, edges, c]), 1), [n, h, w, c]),
  }));
  return repeat(x) as tf.Tensor4D;
}

/**
 * The values of E per-edge variable lists (`perEdge[e][i]`, in `MixedOp` order) in the layout of
 * `targets` (a `StateEdges`'s list, the same order): depthwise filters concatenate along channels,
 * atrous filters along output channels, pointwise filters stack into `[E, C, C]`, BN statistics of
 * the wide BNs concatenate, and those of the pools' BNs (equal on every edge: they see one input)
 * are taken from the first edge.
 */
export function stackPerEdge(perEdge: readonly (readonly tf.Tensor[])[], targets: readonly { shape: number[] }[], edges: number): tf.Tensor[] {
  return tf.tidy(() =>
    targets.map(({ shape }, i) => {
      const pieces = perEdge.map((list) => list[i]);
      const piece = pieces[0].shape;
      if (tf.util.arraysEqual(piece, shape)) return tf.clone(pieces[0]);
      if (shape.length === 3) return tf.stack(pieces.map((p) => tf.reshape(p, shape.slice(1))));
      const axis = shape.findIndex((size, a) => size === edges * piece[a] && size !== piece[a]);
      if (axis < 0) throw new RangeError(`no per-edge layout gives [${shape}] from [${piece}]`);
      return tf.concat(pieces, axis);
    }),
  );
}

/** Draws nothing: the wide layers' values are assigned from the per-edge ops, so drawing them would be wasted (about 4 of the 10 s an L = 12 supernet took to build). */
class Undrawn extends Rng {
  override normalArray(size: number): Float32Array {
    return new Float32Array(size);
  }
}
