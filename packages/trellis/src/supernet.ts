import * as tf from '@tensorflow/tfjs';
import { SearchCell } from '@adl/cell';
import { edgeCount, levelStride, nodeExists, validMoves } from '@adl/decode';
import { addCosts, Downsample, maybeRecompute, Module, RECOMPUTE_MIN_OUTPUT_FLOATS, newVariable, PRIMITIVES, resizeBilinear, SearchAspp, searchAsppRate, Stem, STEM_CHANNELS, UpsampleConv, ZERO_COST, type Cost, type ForwardContext, type Size } from '@adl/ops';
import { Rng } from '@adl/backend';
import { levelSizes } from './levels.js';

export interface SuperNetOptions {
  /** L, layers of the trellis (12, design §1). */
  readonly layers?: number;
  /** B, blocks per cell (5). */
  readonly blocks?: number;
  /** F, filter multiplier (8 in search). */
  readonly filterMultiplier?: number;
  /** Output classes (19 Cityscapes train ids). */
  readonly numClasses?: number;
  readonly seed?: number;
  /**
   * Gradient checkpointing on two levels: the forward pass keeps only each cell's inputs and output;
   * the backward pass recomputes one cell at a time, keeping only its mixed ops' inputs and outputs,
   * and recomputes each mixed op (batched: the edges reading one state together) for its own gradient.
   * Same gradients; memory for the activations of one state's edges instead of the whole net, for two
   * more forward passes of the cells.
   */
  readonly recompute?: boolean;
  /**
   * With `recompute`, a cell whose output holds fewer floats than this keeps its mixed ops' inputs and
   * outputs (the mixed ops are still recomputed): `RECOMPUTE_MIN_OUTPUT_FLOATS` of `@adl/ops` by default.
   */
  readonly recomputeMinOutputFloats?: number;
  /** K of a partial-channel search (PC-DARTS; see `MixedOp` of `@adl/cell`), beyond the paper: 1 by default. */
  readonly partialChannels?: number;
  /**
   * The edges reading one state of a cell as one wide op (`batchEdges` of `SearchCell`): true by
   * default; false gives one mixed op per edge (the same function, other float summation order,
   * another checkpoint layout: see `perEdgeToBatched`).
   */
  readonly batchEdges?: boolean;
  /**
   * How the paper's Eq. 6 is read: `per-edge` (the default) gives a node one cell per incoming edge,
   * each on its resampled source, and β̂ weighs the cells' outputs; `per-node` gives it one cell whose
   * `h_prev` is the β̂-weighted sum of the resampled sources (fewer weights and cells, as some public
   * implementations read it).
   */
  readonly cells?: CellsPer;
}

/** One search cell per incoming edge of a node, or one per node (see `SuperNetOptions.cells`). */
export type CellsPer = 'per-edge' | 'per-node';

/** One candidate edge into a node: source level j in the previous layer, its resampling and (per edge) cell. */
interface TrellisEdge {
  readonly source: number;
  /** k = target − source + 1: 0 from the finer level, 1 same, 2 from the coarser (β's last axis). */
  readonly move: number;
  readonly resample: Downsample | UpsampleConv | undefined;
  readonly cell: SearchCell | undefined;
}

/** A node's incoming edges, and its cell where there is one per node. */
interface TrellisNode {
  readonly edges: readonly TrellisEdge[];
  readonly cell: SearchCell | undefined;
}

/** Search defaults (design §1, §5). */
export const SEARCH_DEFAULTS = { layers: 12, blocks: 5, filterMultiplier: 8, numClasses: 19, seed: 0 } as const;

/**
 * The Auto-DeepLab supernet (design §4): the stem, then L layers with a node at every level i ≤ l + 1,
 * each node the β̂-weighted sum of one search cell per incoming edge (from levels i − 1, i, i + 1 of
 * the previous layer, resampled to level i), α shared by every cell; an ASPP head on every node of
 * the last layer, upsampled to the input size and summed.
 */
export class SuperNet extends Module {
  readonly layers: number;
  readonly blocks: number;
  readonly filterMultiplier: number;
  readonly numClasses: number;
  readonly recompute: boolean;
  readonly recomputeMinOutputFloats: number;
  readonly partialChannels: number;
  readonly batchEdges: boolean;
  readonly cells: CellsPer;
  /** Cell architecture weights, `[edgeCount(B), 8]`. */
  readonly alpha: tf.Variable<tf.Rank.R2>;
  /** Network architecture weights, `[L, 4, 3]`. */
  readonly beta: tf.Variable<tf.Rank.R3>;
  private readonly stem: Stem;
  /** `nodes[l][i]`: node (l, i), or undefined where it does not exist. */
  private readonly nodes: (TrellisNode | undefined)[][];
  /** The ASPP head of each level of the last layer. */
  readonly heads: readonly SearchAspp[];
  /** 0 where β[l][j][k] is a valid move, −1e9 where not: softmax over valid moves only. */
  private readonly betaMask: tf.Tensor3D;

  constructor(options: SuperNetOptions = {}) {
    super();
    const { layers, blocks, filterMultiplier, numClasses, seed } = { ...SEARCH_DEFAULTS, ...options };
    this.layers = layers;
    this.blocks = blocks;
    this.filterMultiplier = filterMultiplier;
    this.numClasses = numClasses;
    this.recompute = options.recompute ?? false;
    this.recomputeMinOutputFloats = options.recomputeMinOutputFloats ?? RECOMPUTE_MIN_OUTPUT_FLOATS;
    this.partialChannels = options.partialChannels ?? 1;
    this.batchEdges = (options.batchEdges ?? true) && this.partialChannels === 1;
    this.cells = options.cells ?? 'per-edge';
    if (this.cells !== 'per-edge' && this.cells !== 'per-node') throw new RangeError(`cells must be per-edge or per-node, got ${String(this.cells)}`);
    const rng = new Rng(seed);
    // DARTS initialises architecture weights at 1e-3 · N(0, 1).
    this.alpha = this.addWeight(newVariable(() => tf.tensor2d(rng.normalArray(edgeCount(blocks) * PRIMITIVES.length, 1e-3), [edgeCount(blocks), PRIMITIVES.length])));
    this.beta = this.addWeight(newVariable(() => tf.tensor3d(rng.normalArray(layers * 12, 1e-3), [layers, 4, 3])));
    const mask = Array.from({ length: layers }, (_, l) => Array.from({ length: 4 }, (_, j) => validMoves(l, j).map((ok) => (ok ? 0 : -1e9))));
    this.betaMask = this.addConstant(tf.tensor3d(mask));
    this.stem = this.addChild(new Stem({ affine: true, rng }));

    const nodeChannels = (level: number) => blocks * filterMultiplier * 2 ** level;
    this.nodes = Array.from({ length: layers }, (_, l) =>
      Array.from({ length: 4 }, (_, i) => {
        if (!nodeExists(l, i)) return undefined;
        const sources = l === 0 ? [0] : [i - 1, i, i + 1].filter((j) => nodeExists(l - 1, j));
        const makeCell = (prevChannels: number) => {
          const prevPrevChannels =
            l === 0 ? STEM_CHANNELS[1] : l === 1 && i === 0 ? STEM_CHANNELS[2] : nodeExists(l - 2, i) ? nodeChannels(i) : prevChannels;
          return this.addChild(new SearchCell({ prevPrevChannels, prevChannels, channels: filterMultiplier * 2 ** i, blocks, rng, recompute: this.recompute, partialChannels: this.partialChannels, batchEdges: this.batchEdges }));
        };
        const edges = sources.map((source) => {
          const sourceChannels = l === 0 ? STEM_CHANNELS[2] : nodeChannels(source);
          const resampleOptions = { inChannels: sourceChannels, outChannels: nodeChannels(i), affine: false, rng };
          const resample = source < i ? this.addChild(new Downsample(resampleOptions)) : source > i ? this.addChild(new UpsampleConv(resampleOptions)) : undefined;
          const cell = this.cells === 'per-edge' ? makeCell(resample ? nodeChannels(i) : sourceChannels) : undefined;
          return { source, move: i - source + 1, resample, cell };
        });
        // Per node, the sources summed have one channel count: resampled to the node's, or (l ≥ 1) at its level.
        const cell = this.cells === 'per-node' ? makeCell(edges[0].resample || l > 0 ? nodeChannels(i) : STEM_CHANNELS[2]) : undefined;
        return { edges, cell };
      }),
    );
    this.heads = this.addChildren(
      [0, 1, 2, 3]
        .filter((i) => nodeExists(layers - 1, i))
        .map((i) => new SearchAspp({ inChannels: nodeChannels(i), branchChannels: nodeChannels(i), rate: searchAsppRate(levelStride(i)), numClasses, affine: true, rng })),
    );
  }

  /** β̂: softmax of β over the valid moves of each source node, `[L, 4, 3]`. */
  betaHat(): tf.Tensor3D {
    return tf.softmax(tf.add(this.beta, this.betaMask)) as tf.Tensor3D;
  }

  /** Logits at the input size, `[N, H, W, classes]`. Call inside `tf.tidy`. */
  apply(image: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
    const [, height, width] = image.shape;
    const sizes = levelSizes([height, width]);
    const edgeWeights = tf.unstack(tf.softmax(this.alpha)) as tf.Tensor1D[];
    const betaHat = this.betaHat();
    const { stride2, stride4 } = this.applyStem(image, ctx);
    // The stem's stride-4 output is node (−1, 0); its stride-2 output is h_prev_prev of layer 0.
    let previous: (tf.Tensor4D | undefined)[] = [stride4];
    let beforePrevious: (tf.Tensor4D | undefined)[] = [];
    for (let l = 0; l < this.layers; l++) {
      const current = this.nodes[l].map((node, i) => {
        if (!node) return undefined;
        const prevPrev = l === 0 ? stride2 : beforePrevious[i];
        const weightOf = ({ source, move }: TrellisEdge) => tf.reshape(tf.slice(betaHat, [l, source, move], [1, 1, 1]), []);
        const resampled = (edge: TrellisEdge, sourceValue: tf.Tensor4D, c: ForwardContext) =>
          edge.resample instanceof UpsampleConv ? edge.resample.apply(sourceValue, c, sizes[i]) : edge.resample ? edge.resample.apply(sourceValue, c) : sourceValue;
        const recomputes = (cell: SearchCell) => this.recompute && image.shape[0] * sizes[i][0] * sizes[i][1] * cell.outChannels >= this.recomputeMinOutputFloats;
        if (node.cell) {
          // One cell on the β̂-weighted sum of the resampled sources: inputs (sources, h_prev_prev, β̂ of each edge, α rows).
          const { cell, edges } = node;
          const firstBeta = edges.length + (prevPrev ? 1 : 0);
          const nodeFn = (xs: readonly tf.Tensor[], c: ForwardContext) => {
            const terms = edges.map((edge, e) => tf.mul(resampled(edge, xs[e] as tf.Tensor4D, c), xs[firstBeta + e]) as tf.Tensor4D);
            const hPrev = terms.length === 1 ? terms[0] : (tf.addN(terms) as tf.Tensor4D);
            return cell.apply(prevPrev ? (xs[edges.length] as tf.Tensor4D) : hPrev, hPrev, xs.slice(firstBeta + edges.length) as tf.Tensor1D[], c);
          };
          const inputs = [...edges.map(({ source }) => previous[source]!), ...(prevPrev ? [prevPrev] : []), ...edges.map(weightOf), ...edgeWeights];
          const variables = [...edges.flatMap(({ resample }) => resample?.trainableVariables() ?? []), ...cell.trainableVariables()];
          return maybeRecompute(recomputes(cell), nodeFn, inputs, variables, ctx);
        }
        const terms = node.edges.map((edge) => {
          const cell = edge.cell!;
          // Resampling and cell as one function of (source, h_prev_prev if any, α rows).
          const edgeFn = (xs: readonly tf.Tensor[], c: ForwardContext) => {
            const hPrev = resampled(edge, xs[0] as tf.Tensor4D, c);
            const hPrevPrev = prevPrev ? (xs[1] as tf.Tensor4D) : hPrev;
            return cell.apply(hPrevPrev, hPrev, xs.slice(prevPrev ? 2 : 1) as tf.Tensor1D[], c);
          };
          const inputs = [previous[edge.source]!, ...(prevPrev ? [prevPrev] : []), ...edgeWeights];
          const output = maybeRecompute(recomputes(cell), edgeFn, inputs, [...(edge.resample?.trainableVariables() ?? []), ...cell.trainableVariables()], ctx);
          return tf.mul(output, weightOf(edge)) as tf.Tensor4D;
        });
        return terms.length === 1 ? terms[0] : tf.addN(terms);
      });
      beforePrevious = previous;
      previous = current;
    }
    const logits = this.heads.map((head, i) => {
      const headLogits = (xs: readonly tf.Tensor[], c: ForwardContext) => resizeBilinear(head.apply(xs[0] as tf.Tensor4D, c), [height, width]);
      return maybeRecompute(this.recompute, headLogits, [previous[i]!], head.trainableVariables(), ctx);
    });
    return logits.length === 1 ? logits[0] : tf.addN(logits);
  }

  /** The stem; with `recompute`, its two halves are recomputed in the backward pass too. */
  private applyStem(image: tf.Tensor4D, ctx: ForwardContext): { stride2: tf.Tensor4D; stride4: tf.Tensor4D } {
    const [first, second, third] = this.stem.convs;
    const stride2 = maybeRecompute(this.recompute, ([x], c) => second.apply(first.apply(x as tf.Tensor4D, c), c), [image], [...first.trainableVariables(), ...second.trainableVariables()], ctx);
    const stride4 = maybeRecompute(this.recompute, ([x], c) => third.apply(x as tf.Tensor4D, c), [stride2], third.trainableVariables(), ctx);
    return { stride2, stride4 };
  }

  /** Network weights: the SGD step of search updates these (design §5). */
  weightVariables(): tf.Variable[] {
    return this.trainableVariables().filter((v) => v !== this.alpha && v !== this.beta);
  }

  /** α and β: the Adam step of search updates these (design §5). */
  architectureVariables(): tf.Variable[] {
    return [this.alpha, this.beta];
  }

  /** Parameters (weights only, not α/β) and multiply-adds for one image of the given size. */
  cost(input: Size): Cost {
    const sizes = levelSizes(input);
    let total = this.stem.cost(input);
    this.nodes.forEach((layer) =>
      layer.forEach((node, i) => {
        node?.edges.forEach(({ source, resample, cell }) => {
          const resampleCost = resample instanceof UpsampleConv ? resample.cost(sizes[source], sizes[i]) : (resample?.cost(sizes[source]) ?? ZERO_COST);
          total = addCosts(total, resampleCost, cell?.cost(sizes[i]) ?? ZERO_COST);
        });
        if (node?.cell) total = addCosts(total, node.cell.cost(sizes[i]));
      }),
    );
    this.heads.forEach((head, i) => (total = addCosts(total, head.cost(sizes[i]))));
    return total;
  }

}
