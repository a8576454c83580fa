import { halfSize, type Size } from '@adl/ops';

/**
 * Spatial size at each level for an input image: the stem's two stride-2 3×3 convs give level 0,
 * then every stride-2 3×3 conv (padding 1) halves, rounding up (321 → 81, 41, 21, 11).
 */
export function levelSizes(input: Size): Size[] {
  const sizes: Size[] = [halfSize(halfSize(input))];
  for (let level = 1; level < 4; level++) sizes.push(halfSize(sizes[level - 1]));
  return sizes;
}
