import { describe, expect, it } from 'vitest';
import { decodeArchitecture } from './decode-architecture.js';
import { decodeCell } from './decode-cell.js';
import { decodePath } from './decode-path.js';

const OPS = ['none', 'max_pool_3x3', 'avg_pool_3x3', 'skip_connect', 'sep_conv_3x3', 'sep_conv_5x5', 'atrous_conv_3x3', 'atrous_conv_5x5'];

describe('decodeArchitecture', () => {
  it('is the cell decoded from α and the path decoded from β', () => {
    const alpha = Array.from({ length: 20 }, (_, e) => OPS.map((_, k) => Math.sin(e * 8 + k)));
    const beta = Array.from({ length: 6 }, (_, l) => Array.from({ length: 4 }, (_, j) => [0, 1, 2].map((k) => Math.cos(l * 12 + j * 3 + k))));
    const { path, logProb } = decodePath(beta);
    expect(decodeArchitecture(alpha, beta, { blocks: 5, ops: OPS })).toEqual({ path, pathLogProb: logProb, genotype: decodeCell(alpha, { blocks: 5, ops: OPS }) });
  });
});
