import { assertFiniteVector, DecodeError } from './decode-error.js';
import { softmax } from './softmax.js';

/** One kept edge of a cell: input 0 = `h_prev_prev`, 1 = `h_prev`, `2 + b` = block b; then its op. */
export type GenotypeEdge = [input: number, op: string];

export interface DecodeCellOptions {
  /** Blocks per cell, B (5 in Auto-DeepLab). */
  readonly blocks: number;
  /** Op names in α's column order; `ops[0]` must be `none`. */
  readonly ops: readonly string[];
}

/** Edges of a cell with `blocks` blocks: block b has b + 2 inputs, so Σ (b + 2). */
export function edgeCount(blocks: number): number {
  return (blocks * (blocks + 3)) / 2;
}

/** Row of α for the edge from `input` into `block` (design §3: numbered block by block). */
export function edgeIndex(block: number, input: number): number {
  if (input < 0 || input > block + 1) throw new RangeError(`block ${block} has inputs 0..${block + 1}, not ${input}`);
  return edgeCount(block) + input;
}

/**
 * The cell genotype (design §6, as DARTS): for each block, the strength of an edge is its largest
 * softmax weight over non-`none` ops; the two strongest edges are kept (strongest first; ties to the
 * lower input), each with its argmax non-`none` op (ties to the earlier op). Returns `2·B` pairs.
 */
export function decodeCell(alphas: readonly (readonly number[])[], { blocks, ops }: DecodeCellOptions): GenotypeEdge[] {
  if (!Number.isInteger(blocks) || blocks < 1) throw new DecodeError(`blocks must be a positive integer, got ${blocks}`);
  if (ops[0] !== 'none') throw new DecodeError(`ops[0] must be "none", got "${ops[0]}"`);
  if (ops.length < 2) throw new DecodeError('ops must hold "none" and at least one operation');
  const edges = edgeCount(blocks);
  if (!Array.isArray(alphas) || alphas.length !== edges) {
    throw new DecodeError(`alpha: expected ${edges} edges for ${blocks} blocks, got ${Array.isArray(alphas) ? alphas.length : typeof alphas}`);
  }
  alphas.forEach((row, e) => assertFiniteVector(row, ops.length, `alpha[${e}]`));

  const genotype: GenotypeEdge[] = [];
  for (let block = 0; block < blocks; block++) {
    const candidates = Array.from({ length: block + 2 }, (_, input) => {
      const weights = softmax(alphas[edgeIndex(block, input)]);
      // The strongest op other than `none` (column 0); ties keep the earlier op.
      const best = weights.reduce((top, weight, k) => (k > 0 && weight > weights[top] ? k : top), 1);
      return { input, strength: weights[best], op: ops[best] };
    });
    // Array.prototype.sort is stable: equal strengths keep the lower input first.
    candidates.sort((a, b) => b.strength - a.strength);
    for (const { input, op } of candidates.slice(0, 2)) genotype.push([input, op]);
  }
  return genotype;
}
