import { assertFiniteVector, DecodeError } from './decode-error.js';
import { logSoftmax } from './softmax.js';
import { viterbi } from './viterbi.js';

/** Resolution levels 0..3 = output strides 4, 8, 16, 32 (SPEC §1). */
export const LEVELS = 4;
/** β's last axis: k = 0 into the finer level, 1 same level, 2 coarser (SPEC §4). */
export const MOVES = 3;

export interface DecodedPath {
  /** Level per layer, `p_0 … p_{L−1}`. */
  readonly path: number[];
  /** `Σ_l log β̂(l, p_{l−1} → p_l)` with `p_{−1} = 0`. */
  readonly logProb: number;
}

/**
 * Which moves k leave source level j of layer l − 1 into layer l: layer l − 1 has levels 0..l (for
 * l = 0 the source is the stem, at level 0); none is finer than 0 or coarser than 3.
 */
export function validMoves(layer: number, level: number): boolean[] {
  const exists = level <= layer;
  return [exists && level > 0, exists, exists && level < LEVELS - 1];
}

/**
 * β̂ in log space: `logBetaHat[l][j][k]`, the softmax of `betas[l][j]` over the valid moves of source
 * node (l − 1, j) only, −∞ elsewhere; so every node's outgoing weights sum to 1 (SPEC §4).
 */
export function normalizeBetas(betas: readonly (readonly (readonly number[])[])[]): number[][][] {
  assertBetasShape(betas);
  return betas.map((layer, l) =>
    layer.map((logits, j) => {
      const valid = validMoves(l, j);
      return valid.some(Boolean) ? logSoftmax(logits, valid) : [-Infinity, -Infinity, -Infinity];
    }),
  );
}

function assertBetasShape(betas: unknown): asserts betas is number[][][] {
  if (!Array.isArray(betas) || betas.length === 0) throw new DecodeError('betas: expected an [L][4][3] array with L ≥ 1');
  betas.forEach((layer, l) => {
    if (!Array.isArray(layer) || layer.length !== LEVELS) {
      throw new DecodeError(`betas[${l}]: expected ${LEVELS} levels, got ${Array.isArray(layer) ? layer.length : typeof layer}`);
    }
    layer.forEach((logits, j) => assertFiniteVector(logits, MOVES, `betas[${l}][${j}]`));
  });
}

/**
 * The network-level path (SPEC §6): the levels `p_0 … p_{L−1}` maximising
 * `Σ_l log β̂(l, p_{l−1} → p_l)` with `p_{−1} = 0`, by Viterbi in O(L·4·3). Ties go to the finer
 * level, latest layer first.
 */
export function decodePath(betas: readonly (readonly (readonly number[])[])[]): DecodedPath {
  const logBetaHat = normalizeBetas(betas);
  const transition = (l: number) =>
    Array.from({ length: LEVELS }, (_, from) =>
      Array.from({ length: LEVELS }, (_, to) => {
        // Moves of more than one level have no entry in β.
        return logBetaHat[l][from][to - from + 1] ?? -Infinity;
      }),
    );
  const logInit = transition(0)[0];
  const logTransitions = logBetaHat.slice(1).map((_, index) => transition(index + 1));
  return viterbi({ logInit, logTransitions });
}

/** Output stride of each level of a path: 4 · 2^level. */
export function pathStrides(path: readonly number[]): number[] {
  return path.map((level) => 4 * 2 ** level);
}
