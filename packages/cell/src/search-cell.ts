import * as tf from '@tensorflow/tfjs';
import { addCosts, Module, type Cost, type ForwardContext, type Size } from '@adl/ops';
import type { Rng } from '@adl/backend';
import { edgeCount, edgeIndex } from '@adl/decode';
import { CellInputs, type CellInputChannels } from './cell-inputs.js';
import { MixedOp } from './mixed-op.js';
import { stackPerEdge, StateEdges } from './state-edges.js';

export interface SearchCellOptions extends CellInputChannels {
  /** B, blocks per cell (5 in Auto-DeepLab, design §1). */
  readonly blocks?: number;
  readonly rng: Rng;
  /** Recompute each mixed op in the backward pass (see `MixedOp`). */
  readonly recompute?: boolean;
  /** K of a partial-channel search (see `MixedOp`); 1, the paper's, by default. */
  readonly partialChannels?: number;
  /**
   * Compute the edges reading one state as one wide op (`StateEdges`): the same function with about
   * half the kernel calls. True by default; a partial-channel search keeps one mixed op per edge.
   */
  readonly batchEdges?: boolean;
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
  /** The mixed op of every edge, numbered as `edgeIndex` says; empty where the edges are batched. */
  readonly edges: readonly MixedOp[];
  /** With `batchEdges`: for each state 0 … B that a block reads, its edges as one op (in block order). */
  readonly stateEdges: readonly StateEdges[];

  constructor(options: SearchCellOptions) {
    super();
    this.blocks = options.blocks ?? DEFAULT_BLOCKS;
    this.channels = options.channels;
    const partialChannels = options.partialChannels ?? 1;
    this.inputs = this.addChild(new CellInputs(options, false, options.rng));
    const recompute = options.recompute;
    // Built per edge either way, so that a seed draws the same initial weights in both layouts.
    const edges = Array.from({ length: edgeCount(this.blocks) }, () => new MixedOp(options.channels, options.rng, { recompute, partialChannels }));
    if ((options.batchEdges ?? true) && partialChannels === 1) {
      this.stateEdges = this.addChildren(Array.from({ length: this.blocks + 1 }, (_, state) => new StateEdges(readersOf(state, this.blocks).map((block) => edges[edgeIndex(block, state)]), { recompute })));
      edges.forEach((edge) => edge.dispose());
      this.edges = [];
    } else {
      this.edges = this.addChildren(edges);
      this.stateEdges = [];
    }
  }

  get outChannels(): number {
    return this.blocks * this.channels;
  }

  /** `edgeWeights[e]`: softmax(α[e]), shape [8], for each of the `edgeCount(B)` edges. */
  apply(hPrevPrev: tf.Tensor4D, hPrev: tf.Tensor4D, edgeWeights: readonly tf.Tensor1D[], ctx: ForwardContext): tf.Tensor4D {
    const edges = edgeCount(this.blocks);
    if (edgeWeights.length !== edges) throw new RangeError(`the cell has ${edges} edges, got ${edgeWeights.length} α rows`);
    const states: tf.Tensor4D[] = this.inputs.apply(hPrevPrev, hPrev, ctx);
    // terms[b][j]: edge (b, j)'s mixed op, summed into block b in input order.
    const terms: tf.Tensor4D[][] = Array.from({ length: this.blocks }, () => []);
    const readState = (state: number) => {
      const blocks = readersOf(state, this.blocks);
      if (this.stateEdges.length === 0) {
        for (const block of blocks) {
          const e = edgeIndex(block, state);
          terms[block][state] = this.edges[e].apply(states[state], edgeWeights[e], ctx);
        }
        return;
      }
      const rows = tf.stack(blocks.map((block) => edgeWeights[edgeIndex(block, state)])) as tf.Tensor2D;
      const wide = this.stateEdges[state].apply(states[state], rows, ctx);
      const parts = blocks.length === 1 ? [wide] : (tf.split(wide, blocks.length, 3) as tf.Tensor4D[]);
      blocks.forEach((block, i) => (terms[block][state] = parts[i]));
    };
    readState(0);
    for (let block = 0; block < this.blocks; block++) {
      readState(block + 1);
      states.push(tf.addN(terms[block]));
    }
    return tf.concat(states.slice(2), 3);
  }

  cost(size: Size): Cost {
    return addCosts(this.inputs.cost(size), ...this.edges.map((edge) => edge.cost(size)), ...this.stateEdges.map((group) => group.cost(size)));
  }
}

/** The blocks that read hidden state `state`: every block from `state − 1` (states 0 and 1: all). */
function readersOf(state: number, blocks: number): number[] {
  return Array.from({ length: blocks - Math.max(0, state - 1) }, (_, i) => Math.max(0, state - 1) + i);
}

/**
 * Values of a per-edge cell's variables (`values[i]` for `perEdge[kind]()[i]`) in the layout of a
 * batched cell of the same options (`batched[kind]()`): the inputs as they are, each state's edges
 * stacked by `stackPerEdge`. New tensors, the caller's to dispose.
 */
export function batchedCellValues(perEdge: SearchCell, batched: SearchCell, values: readonly tf.Tensor[], kind: 'trainableVariables' | 'stateVariables'): tf.Tensor[] {
  if (perEdge.edges.length === 0 || batched.stateEdges.length === 0) throw new RangeError('batchedCellValues converts a per-edge cell to a batched one');
  const inputCount = perEdge.inputs[kind]().length;
  const perEdgeLength = perEdge.edges[0][kind]().length;
  const ofEdge = (e: number) => values.slice(inputCount + e * perEdgeLength, inputCount + (e + 1) * perEdgeLength);
  return [
    ...values.slice(0, inputCount).map((v) => tf.clone(v)),
    ...batched.stateEdges.flatMap((group, state) =>
      stackPerEdge(readersOf(state, batched.blocks).map((block) => ofEdge(edgeIndex(block, state))), group[kind](), group.count),
    ),
  ];
}
