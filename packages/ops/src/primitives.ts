/**
 * The candidate operations of the Auto-DeepLab cell, in DARTS order (design §2).
 * The index of a name in this tuple is its column in α.
 */
export const PRIMITIVES = [
  'none',
  'max_pool_3x3',
  'avg_pool_3x3',
  'skip_connect',
  'sep_conv_3x3',
  'sep_conv_5x5',
  'atrous_conv_3x3',
  'atrous_conv_5x5',
] as const;

export type OpName = (typeof PRIMITIVES)[number];

export function isOpName(name: string): name is OpName {
  return (PRIMITIVES as readonly string[]).includes(name);
}
