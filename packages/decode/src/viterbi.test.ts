import { describe, expect, it } from 'vitest';
import { viterbi } from './viterbi.js';

describe('viterbi', () => {
  it('decodes the classic two-state weather HMM (a hand-checked case)', () => {
    // States: 0 = rainy, 1 = sunny; observations walk, shop, clean.
    const start = [0.6, 0.4];
    const transition = [
      [0.7, 0.3],
      [0.4, 0.6],
    ];
    const emission = [
      [0.1, 0.4, 0.5],
      [0.6, 0.3, 0.1],
    ];
    const observations = [0, 1, 2];
    const logInit = start.map((p, s) => Math.log(p * emission[s][observations[0]]));
    const logTransitions = observations.slice(1).map((o) => transition.map((row) => row.map((p, to) => Math.log(p * emission[to][o]))));
    const { path, logProb } = viterbi({ logInit, logTransitions });
    expect(path).toEqual([1, 0, 0]);
    expect(Math.exp(logProb)).toBeCloseTo(0.01344, 8);
  });

  it('takes the lowest state on ties, latest step first', () => {
    const { path } = viterbi({ logInit: [0, 0], logTransitions: [[[0, 0], [0, 0]]] });
    expect(path).toEqual([0, 0]);
  });

  it('handles a single step and rejects impossible chains', () => {
    expect(viterbi({ logInit: [-1, -0.5, -Infinity], logTransitions: [] })).toEqual({ path: [1], logProb: -0.5 });
    expect(() => viterbi({ logInit: [-Infinity], logTransitions: [] })).toThrow(/no state sequence has a finite score/);
    expect(() => viterbi({ logInit: [0, 0], logTransitions: [[[0, 0]]] })).toThrow(/logTransitions\[0\]: expected a 2×2 matrix/);
    expect(() => viterbi({ logInit: [0, 0], logTransitions: [[[0, 0], [0]]] })).toThrow(/logTransitions\[0\]: expected a 2×2 matrix/);
    expect(() => viterbi({ logInit: [0, 0], logTransitions: [[[0, 0], [0, 0]], [[0, 0], [0, 0, 0]]] })).toThrow(/logTransitions\[1\]: expected a 2×2 matrix/);
  });
});
