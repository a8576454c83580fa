import { assertFiniteVector, DecodeError } from './decode-error.js';
import { logSoftmax } from './softmax.js';
import { LEVELS, levelStride, MOVES, validMoves } from './trellis-geometry.js';
import { viterbi } from './viterbi.js';

export interface DecodedPath {
  /** Level per layer, `p_0 … p_{L−1}`. */
  readonly path: number[];
  /** `Σ_l log β̂(l, p_{l−1} → p_l)` with `p_{−1} = 0`. */
  readonly logProb: number;
}

/**
 * β̂ in log space: `logBetaHat[l][j][k]`, the softmax of `betas[l][j]` over the valid moves of source
 * node (l − 1, j) only, −∞ elsewhere; so every node's outgoing weights sum to 1 (design §4).
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
  if (!Array.isArray(betas) || betas.length === 0) throw new DecodeError('beta: expected an [L][4][3] array with L ≥ 1');
  betas.forEach((layer, l) => {
    if (!Array.isArray(layer) || layer.length !== LEVELS) {
      throw new DecodeError(`beta[${l}]: expected ${LEVELS} levels, got ${Array.isArray(layer) ? layer.length : typeof layer}`);
    }
    layer.forEach((logits, j) => assertFiniteVector(logits, MOVES, `beta[${l}][${j}]`));
  });
}

/**
 * The network-level path (design §6): the levels `p_0 … p_{L−1}` maximising
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

/** Output stride of each level of a path. */
export function pathStrides(path: readonly number[]): number[] {
  return path.map(levelStride);
}
