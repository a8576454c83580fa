import type { Genotype } from './genotype.js';

/**
 * The cell found by Auto-DeepLab (design §7), from the DeepLab NAS code: operations
 * `atrous_5x5, separable_3x3_2 | separable_3x3_2, atrous_3x3 | separable_3x3_2, separable_3x3_2 |
 * separable_5x5_2, separable_5x5_2 | separable_5x5_2, atrous_5x5` with hidden-state indices
 * `[1, 0, 1, 0, 3, 1, 4, 2, 3, 5]`. In that code's `_cell_base`, state 0 is the cell's current
 * input (`h_prev`) and state 1 the one before (`h_prev_prev`); here input 0 is `h_prev_prev` and
 * 1 is `h_prev`, so 0 and 1 swap and block states (2 + b) stay.
 */
export const AUTO_DEEPLAB_GENOTYPE: Genotype = [
  [0, 'atrous_conv_5x5'],
  [1, 'sep_conv_3x3'],
  [0, 'sep_conv_3x3'],
  [1, 'atrous_conv_3x3'],
  [3, 'sep_conv_3x3'],
  [0, 'sep_conv_3x3'],
  [4, 'sep_conv_5x5'],
  [2, 'sep_conv_5x5'],
  [3, 'sep_conv_5x5'],
  [5, 'atrous_conv_5x5'],
];
