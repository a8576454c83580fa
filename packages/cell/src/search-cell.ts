import * as tf from '@tensorflow/tfjs';
import { addCosts, Module, type Cost, type ForwardContext, type Size } from '@adl/ops';
import type { Rng } from '@adl/backend';
import { edgeCount, edgeIndex } from '@adl/decode';
import { CellInputs, type CellInputChannels } from './cell-inputs.js';
import { MixedOp } from './mixed-op.js';

export interface SearchCellOptions extends CellInputChannels {
  /** B, blocks per cell (5 in Auto-DeepLab, design §1). */
  readonly blocks?: number;
  readonly rng: Rng;
  /** Recompute each mixed op in the backward pass (see `MixedOp`). */
  readonly recompute?: boolean;
  /** K of a partial-channel search (see `MixedOp`); 1, the paper's, by default. */
  readonly partialChannels?: number;
}

/** B = 5 blocks per cell (design §1). */
export const DEFAULT_BLOCKS = 5;

/**
 * The searchable cell (design §3): block b sums a mixed op on each of its inputs
 * `[s0, s1, block_0, …, block_{b−1}]`; edges are numbered block by block (`edgeIndex`); the output
 * concatenates the B blocks (`B·F·2^i` channels). α is not owned here: every cell of the network
 * shares one, passed to `apply` as softmax rows.
 */
export class SearchCell extends Module {
  readonly blocks: number;
  readonly channels: number;
  /** The preprocessing of the two inputs into hidden states 0 and 1. */
  readonly inputs: CellInputs;
  /** The mixed op of every edge, numbered as `edgeIndex` says. */
  readonly edges: readonly MixedOp[];

  constructor(options: SearchCellOptions) {
    super();
    this.blocks = options.blocks ?? DEFAULT_BLOCKS;
    this.channels = options.channels;
    this.inputs = this.addChild(new CellInputs(options, false, options.rng));
    this.edges = this.addChildren(Array.from({ length: edgeCount(this.blocks) }, () => new MixedOp(options.channels, options.rng, { recompute: options.recompute, partialChannels: options.partialChannels })));
  }

  get outChannels(): number {
    return this.blocks * this.channels;
  }

  /** `edgeWeights[e]`: softmax(α[e]), shape [8], for each of the `edgeCount(B)` edges. */
  apply(hPrevPrev: tf.Tensor4D, hPrev: tf.Tensor4D, edgeWeights: readonly tf.Tensor1D[], ctx: ForwardContext): tf.Tensor4D {
    if (edgeWeights.length !== this.edges.length) {
      throw new RangeError(`the cell has ${this.edges.length} edges, got ${edgeWeights.length} α rows`);
    }
    const states: tf.Tensor4D[] = this.inputs.apply(hPrevPrev, hPrev, ctx);
    for (let block = 0; block < this.blocks; block++) {
      const terms = states.map((state, input) => {
        const e = edgeIndex(block, input);
        return this.edges[e].apply(state, edgeWeights[e], ctx);
      });
      states.push(tf.addN(terms));
    }
    return tf.concat(states.slice(2), 3);
  }

  cost(size: Size): Cost {
    return addCosts(this.inputs.cost(size), ...this.edges.map((edge) => edge.cost(size)));
  }
}
