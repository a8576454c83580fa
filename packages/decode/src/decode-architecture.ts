import { decodeCell, type GenotypeEdge } from './decode-cell.js';
import { decodePath } from './decode-path.js';

export interface DecodeArchitectureOptions {
  /** Blocks per cell, B (5 in Auto-DeepLab). */
  readonly blocks: number;
  /** Op names in α's column order; `ops[0]` must be `none`. */
  readonly ops: readonly string[];
}

/** A searched architecture: the cell from α and the network path from β (design §6). */
export interface DecodedArchitecture {
  /** Level per layer. */
  readonly path: number[];
  /** `Σ_l log β̂` along the path. */
  readonly pathLogProb: number;
  /** `2·B` pairs `[input, op]`, two per block. */
  readonly genotype: GenotypeEdge[];
}

/**
 * The architecture a search found: `decodeCell` on α (`[edges, ops]`) and `decodePath` on β
 * (`[L, 4, 3]`). The one place α and β become an architecture (search log, `adl decode`, examples).
 */
export function decodeArchitecture(
  alpha: readonly (readonly number[])[],
  beta: readonly (readonly (readonly number[])[])[],
  options: DecodeArchitectureOptions,
): DecodedArchitecture {
  const { path, logProb } = decodePath(beta);
  return { path, pathLogProb: logProb, genotype: decodeCell(alpha, options) };
}
