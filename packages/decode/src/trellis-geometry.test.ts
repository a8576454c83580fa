import { describe, expect, it } from 'vitest';
import { levelStride, nodeExists, validMoves } from './trellis-geometry.js';

describe('the trellis (design §4)', () => {
  it('has a node at level i of layer l when i ≤ l + 1; the stem (layer −1) is level 0', () => {
    expect([0, 1, 2, 3].map((i) => nodeExists(-1, i))).toEqual([true, false, false, false]);
    expect([0, 1, 2, 3].map((i) => nodeExists(0, i))).toEqual([true, true, false, false]);
    expect([0, 1, 2, 3].map((i) => nodeExists(1, i))).toEqual([true, true, true, false]);
    expect([0, 1, 2, 3].map((i) => nodeExists(2, i))).toEqual([true, true, true, true]);
    expect([-1, 4].map((i) => nodeExists(11, i))).toEqual([false, false]);
  });

  it('level i has output stride 4 · 2^i', () => {
    expect([0, 1, 2, 3].map(levelStride)).toEqual([4, 8, 16, 32]);
  });

  it('valid moves: level 0 has no finer, level 3 no coarser, absent sources none', () => {
    expect(validMoves(0, 0)).toEqual([false, true, true]);
    expect(validMoves(0, 1)).toEqual([false, false, false]);
    expect(validMoves(1, 0)).toEqual([false, true, true]);
    expect(validMoves(1, 1)).toEqual([true, true, true]);
    expect(validMoves(1, 2)).toEqual([false, false, false]);
    expect(validMoves(2, 2)).toEqual([true, true, true]);
    expect(validMoves(5, 3)).toEqual([true, true, false]);
  });
});
