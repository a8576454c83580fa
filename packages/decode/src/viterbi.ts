import { DecodeError } from './decode-error.js';

export interface ViterbiInput {
  /** `logInit[s]`: log-score of starting in state `s` (−∞ where impossible). */
  readonly logInit: readonly number[];
  /** `logTransitions[t][from][to]`: log-score of moving into step t + 1 (−∞ where impossible). */
  readonly logTransitions: readonly (readonly (readonly number[])[])[];
}

export interface ViterbiResult {
  /** The best state sequence, one state per step (`logTransitions.length + 1` steps). */
  readonly path: number[];
  /** Its total log-score. */
  readonly logProb: number;
}

/**
 * Max-product (max-sum in log space) decoding of a chain: the state sequence maximising
 * `logInit[s₀] + Σₜ logTransitions[t][sₜ][sₜ₊₁]`, in O(T·S²). Ties go to the lower state index,
 * latest step first: among equal best paths the one with the lowest final state, then the lowest
 * state before it, and so on. Works for any chain model (HMM decoding, path search on a trellis);
 * scores need not be normalised. Throws `DecodeError` if no sequence has a finite score.
 */
export function viterbi({ logInit, logTransitions }: ViterbiInput): ViterbiResult {
  const states = logInit.length;
  let scores = [...logInit];
  const backPointers: number[][] = [];
  logTransitions.forEach((transition, t) => {
    if (transition.length !== states || transition.some((row) => row.length !== states)) {
      throw new DecodeError(`logTransitions[${t}]: expected a ${states}×${states} matrix`);
    }
    // For each state, the best predecessor (strictly greater: the lowest one wins ties).
    const pointers = scores.map((_, to) => scores.reduce((best, score, from) => (score + transition[from][to] > scores[best] + transition[best][to] ? from : best), 0));
    const next = pointers.map((from, to) => scores[from] + transition[from][to]);
    scores = next;
    backPointers.push(pointers);
  });
  const last = scores.reduce((best, score, s) => (score > scores[best] ? s : best), 0);
  if (!(scores[last] > -Infinity)) throw new DecodeError('no state sequence has a finite score');
  const path = [last];
  for (let t = backPointers.length - 1; t >= 0; t--) path.unshift(backPointers[t][path[0]]);
  return { path, logProb: scores[last] };
}
