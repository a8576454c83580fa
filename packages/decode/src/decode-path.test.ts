import { describe, expect, it } from 'vitest';
import { decodePath, normalizeBetas, pathStrides } from './decode-path.js';
import { validMoves } from './trellis-geometry.js';

/** Deterministic pseudo-random numbers for reproducible random β. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomBetas(layers: number, seed: number, scale = 3): number[][][] {
  const next = random(seed);
  return Array.from({ length: layers }, () =>
    Array.from({ length: 4 }, () => Array.from({ length: 3 }, () => (next() - 0.5) * 2 * scale)),
  );
}

/**
 * Every valid path, scored in the same order as the decoder; ties broken by the documented rule
 * (finer level at the latest differing layer).
 */
function bruteForce(betas: number[][][]): { path: number[]; logProb: number } {
  const logBetaHat = normalizeBetas(betas);
  let best = { path: [] as number[], logProb: -Infinity };
  const finerLate = (a: number[], b: number[]) => {
    for (let l = a.length - 1; l >= 0; l--) if (a[l] !== b[l]) return a[l] < b[l];
    return false;
  };
  const walk = (path: number[], previous: number, score: number) => {
    const l = path.length;
    if (l === betas.length) {
      if (score > best.logProb || (score === best.logProb && finerLate(path, best.path))) best = { path: [...path], logProb: score };
      return;
    }
    for (let k = 0; k < 3; k++) {
      const level = previous + k - 1;
      if (level < 0 || level > 3 || level > l + 1) continue;
      const step = logBetaHat[l][previous][k];
      if (step === -Infinity) continue;
      path.push(level);
      walk(path, level, score + step);
      path.pop();
    }
  };
  walk([], 0, 0);
  return best;
}

describe('decodePath equals brute force over all paths', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('on 40 random β with L = %i', (layers) => {
    for (let seed = 0; seed < 40; seed++) {
      const betas = randomBetas(layers, 1000 * layers + seed);
      expect(decodePath(betas)).toEqual(bruteForce(betas));
    }
  });

  it('on 5 random β with L = 12 (the paper setting)', () => {
    for (let seed = 0; seed < 5; seed++) {
      const betas = randomBetas(12, 77 + seed, 1);
      expect(decodePath(betas)).toEqual(bruteForce(betas));
    }
  });

  it('on β with many exact ties (values from {0, 1})', () => {
    for (let seed = 0; seed < 50; seed++) {
      const next = random(seed);
      const betas = randomBetas(6, seed).map((layer) => layer.map((row) => row.map(() => (next() < 0.5 ? 0 : 1))));
      expect(decodePath(betas)).toEqual(bruteForce(betas));
    }
  });
});

describe('decodePath hand cases', () => {
  it('uniform β: staying at level 0 (weight ½ per layer) beats every path through levels 1–2 (⅓)', () => {
    const betas = Array.from({ length: 12 }, () => Array.from({ length: 4 }, () => [0, 0, 0]));
    const { path, logProb } = decodePath(betas);
    // [0, …, 0, 1] scores the same (its last step from level 0 is also ½): ties go to the finer level.
    expect(path).toEqual(Array(12).fill(0));
    expect(logProb).toBeCloseTo(12 * Math.log(0.5), 12);
  });

  it('layer 0 can only stay at level 0 or go to level 1; the finer-move entry of β[0][0] is ignored', () => {
    const betas = [[[100, 0, 1], [0, 0, 0], [0, 0, 0], [0, 0, 0]]];
    const { path, logProb } = decodePath(betas);
    expect(path).toEqual([1]);
    expect(logProb).toBeCloseTo(Math.log(Math.E / (1 + Math.E)), 12);
  });

  it('a strong pull to coarser levels climbs one level per layer and stays at level 3', () => {
    // At level 3 only finer (−5) and same (0) are valid: staying wins.
    const coarser = [-5, 0, 5];
    const betas = Array.from({ length: 6 }, () => Array.from({ length: 4 }, () => [...coarser]));
    expect(decodePath(betas).path).toEqual([1, 2, 3, 3, 3, 3]);
    expect(pathStrides([1, 2, 3, 3, 3, 3])).toEqual([8, 16, 32, 32, 32, 32]);
  });

  it('β of nodes that do not exist (level 3 in layer 1) has no effect', () => {
    const base = randomBetas(4, 5);
    const altered = structuredClone(base);
    altered[1][3] = [50, 50, 50];
    altered[1][2] = [50, 50, 50];
    expect(decodePath(altered)).toEqual(decodePath(base));
  });

  it('normalises over the valid moves of each node only, so outgoing weights sum to 1', () => {
    const betas = randomBetas(5, 9);
    normalizeBetas(betas).forEach((layer, l) =>
      layer.forEach((row, j) => {
        const valid = validMoves(l, j);
        if (!valid.some(Boolean)) {
          // A node that does not exist has no outgoing edge.
          expect(row).toEqual([-Infinity, -Infinity, -Infinity]);
          return;
        }
        expect(row.reduce((sum, v) => sum + Math.exp(v), 0)).toBeCloseTo(1, 12);
        row.forEach((value, k) => expect(value === -Infinity).toBe(!valid[k]));
      }),
    );
  });

});

describe('decodePath input validation', () => {
  it.each([
    [[], /expected an \[L\]\[4\]\[3\] array/],
    [[[[0, 0, 0], [0, 0, 0], [0, 0, 0]]], /beta\[0\]: expected 4 levels, got 3/],
    [[[[0, 0, 0], [0, 0], [0, 0, 0], [0, 0, 0]]], /beta\[0\]\[1\]: expected 3 numbers, got 2/],
    [[[[0, 0, 0], [0, NaN, 0], [0, 0, 0], [0, 0, 0]]], /beta\[0\]\[1\]\[1\] is NaN/],
    [[[[0, 0, Infinity], [0, 0, 0], [0, 0, 0], [0, 0, 0]]], /beta\[0\]\[0\]\[2\] is Infinity/],
    [[[[0, 0, '1'], [0, 0, 0], [0, 0, 0], [0, 0, 0]]], /beta\[0\]\[0\]\[2\] is string/],
  ])('rejects %j', (betas, message) => {
    expect(() => decodePath(betas as number[][][])).toThrow(message);
  });
});
