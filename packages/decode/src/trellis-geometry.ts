/**
 * The shape of the network-level search space (design §1, §4), in one place: the supernet is built
 * from it, the decoder searches it, the report draws it.
 */

/** Resolution levels 0..3 = output strides 4, 8, 16, 32. */
export const LEVELS = 4;
/** β's last axis: k = 0 into the finer level, 1 the same level, 2 the coarser one. */
export const MOVES = 3;

/** Output stride of a level: 4 · 2^level. */
export function levelStride(level: number): number {
  return 4 * 2 ** level;
}

/** Layer l has a node at level i when i ≤ l + 1 (layer 0: levels 0 and 1); layer −1 is the stem, at level 0. */
export function nodeExists(layer: number, level: number): boolean {
  return level >= 0 && level < LEVELS && level <= layer + 1;
}

/** Which moves k leave node (l − 1, j) into layer l: from a node that exists, to a level that does. */
export function validMoves(layer: number, level: number): boolean[] {
  const exists = nodeExists(layer - 1, level);
  return Array.from({ length: MOVES }, (_, k) => exists && nodeExists(layer, level + k - 1));
}
