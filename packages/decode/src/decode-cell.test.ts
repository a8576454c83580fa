import { describe, expect, it } from 'vitest';
import { decodeCell, edgeCount, edgeIndex } from './decode-cell.js';

const OPS = ['none', 'max_pool_3x3', 'avg_pool_3x3', 'skip_connect', 'sep_conv_3x3', 'sep_conv_5x5', 'atrous_conv_3x3', 'atrous_conv_5x5'];

/** α with one chosen op per listed edge at `strength`, all else 0. */
function alphasWith(choices: Record<number, [op: number, strength: number]>): number[][] {
  return Array.from({ length: 20 }, (_, e) => {
    const row = Array(8).fill(0);
    if (choices[e]) row[choices[e][0]] = choices[e][1];
    return row;
  });
}

describe('edge numbering (design §3)', () => {
  it('has 20 edges for B = 5, numbered block by block: 0–1, 2–4, 5–8, 9–13, 14–19', () => {
    expect(edgeCount(5)).toBe(20);
    expect([0, 1, 2, 3, 4].map((b) => [edgeIndex(b, 0), edgeIndex(b, b + 1)])).toEqual([
      [0, 1],
      [2, 4],
      [5, 8],
      [9, 13],
      [14, 19],
    ]);
    expect(() => edgeIndex(1, 3)).toThrow(/block 1 has inputs 0..2/);
    expect(() => edgeIndex(1, -1)).toThrow(/block 1 has inputs 0..2, not -1/);
  });
});

describe('decodeCell', () => {
  it('keeps the two strongest edges per block, strongest first, each with its best non-none op', () => {
    const alphas = alphasWith({
      0: [7, 2], // block 0: h_prev_prev → atrous 5×5
      1: [4, 3], // block 0: h_prev → sep 3×3 (stronger)
      2: [5, 1],
      3: [6, 4],
      4: [3, 2], // block 1: inputs 1 (atrous 3×3) and 2 (skip)
      5: [1, 5],
      8: [4, 6], // block 2: inputs 3 (sep 3×3) and 0 (max pool)
      10: [5, 1],
      12: [5, 2], // block 3: inputs 3 and 1
      16: [5, 3],
      19: [7, 3.5], // block 4: inputs 5 and 2
    });
    expect(decodeCell(alphas, { blocks: 5, ops: OPS })).toEqual([
      [1, 'sep_conv_3x3'],
      [0, 'atrous_conv_5x5'],
      [1, 'atrous_conv_3x3'],
      [2, 'skip_connect'],
      [3, 'sep_conv_3x3'],
      [0, 'max_pool_3x3'],
      [3, 'sep_conv_5x5'],
      [1, 'sep_conv_5x5'],
      [5, 'atrous_conv_5x5'],
      [2, 'sep_conv_5x5'],
    ]);
  });

  it('ignores none: an edge dominated by none is ranked by its best other op', () => {
    // Edge 0 has the largest single weight of all (none, ≈ 1); its other ops get ≈ 5e−5 each,
    // below edge 1's flat 1/8, so edge 1 ranks first.
    const alphas = alphasWith({ 0: [0, 10] });
    const [first, second] = decodeCell(alphas, { blocks: 5, ops: OPS });
    expect(first).toEqual([1, 'max_pool_3x3']);
    expect(second).toEqual([0, 'max_pool_3x3']);
  });

  it('breaks ties towards the lower input and the earlier op', () => {
    const genotype = decodeCell(alphasWith({}), { blocks: 5, ops: OPS });
    expect(genotype.filter((_, i) => i % 2 === 0).map(([input]) => input)).toEqual([0, 0, 0, 0, 0]);
    expect(genotype.filter((_, i) => i % 2 === 1).map(([input]) => input)).toEqual([1, 1, 1, 1, 1]);
    expect(genotype.every(([, op]) => op === 'max_pool_3x3')).toBe(true);
  });

  it('works for other block counts and op lists, down to one operation besides none', () => {
    expect(decodeCell([[5, 1], [0, 2]], { blocks: 1, ops: ['none', 'a'] })).toEqual([
      [1, 'a'],
      [0, 'a'],
    ]);
    const alphas = [
      [0, 1, 0],
      [0, 0, 2],
    ];
    expect(decodeCell(alphas, { blocks: 1, ops: ['none', 'a', 'b'] })).toEqual([
      [1, 'b'],
      [0, 'a'],
    ]);
  });

  it.each([
    [alphasWith({}).slice(1), { blocks: 5, ops: OPS }, /alpha: expected 20 edges for 5 blocks, got 19/],
    [alphasWith({}).map((row, e) => (e === 3 ? row.slice(1) : row)), { blocks: 5, ops: OPS }, /alpha\[3\]: expected 8 numbers, got 7/],
    [alphasWith({}).map((row, e) => (e === 4 ? [...row.slice(0, 7), NaN] : row)), { blocks: 5, ops: OPS }, /alpha\[4\]\[7\] is NaN/],
    [alphasWith({}), { blocks: 5, ops: ['skip_connect', ...OPS.slice(1)] }, /ops\[0\] must be "none"/],
    [alphasWith({}), { blocks: 0, ops: OPS }, /blocks must be a positive integer/],
    [[[0], [0]], { blocks: 1, ops: ['none'] }, /ops must hold "none" and at least one operation/],
  ])('rejects bad input (%#)', (alphas, options, message) => {
    expect(() => decodeCell(alphas, options)).toThrow(message);
  });
});
