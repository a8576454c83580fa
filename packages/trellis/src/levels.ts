import type { Size } from '@adl/ops';
import { convOutputLength } from '@adl/backend';

/** Output stride of a level: 4 · 2^level (SPEC §1). */
export function levelStride(level: number): number {
  return 4 * 2 ** level;
}

/** A layer l of the search space has a node at level i when i ≤ l + 1 (SPEC §4). */
export function nodeExists(layer: number, level: number): boolean {
  return level >= 0 && level <= 3 && level <= layer + 1;
}

/**
 * Spatial size at each level for an input image: the stem's two stride-2 3×3 convs give level 0,
 * then every stride-2 3×3 conv (pad 1) halves, rounding up (321 → 81, 41, 21, 11).
 */
export function levelSizes([height, width]: Size): Size[] {
  const half = (n: number) => convOutputLength(n, 3, { stride: 2, dilation: 1, padding: 1 });
  const sizes: Size[] = [[half(half(height)), half(half(width))]];
  for (let level = 1; level < 4; level++) {
    const [h, w] = sizes[level - 1];
    sizes.push([half(h), half(w)]);
  }
  return sizes;
}
