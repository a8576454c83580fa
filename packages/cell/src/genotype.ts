import { isOpName, type OpName } from '@adl/ops';

/** One kept edge: input (0 = `h_prev_prev`, 1 = `h_prev`, 2 + b = block b) and its op. */
export type CellEdge = readonly [input: number, op: OpName];

/** A cell genotype: two edges per block, block by block (design §6). */
export type Genotype = readonly CellEdge[];

export class GenotypeError extends Error {
  override name = 'GenotypeError';
}

/**
 * Checks a genotype: an even number of edges (two per block), every input earlier than its block
 * (`input ≤ b + 1`), every op a known non-`none` primitive. `where` names the source in errors.
 */
export function assertValidGenotype(genotype: readonly (readonly [number, string])[], where = 'genotype'): asserts genotype is Genotype {
  if (!Array.isArray(genotype) || genotype.length === 0 || genotype.length % 2 !== 0) {
    throw new GenotypeError(`${where}: expected two edges per block, got ${Array.isArray(genotype) ? genotype.length : typeof genotype} edges`);
  }
  genotype.forEach(([input, op], index) => {
    const block = Math.floor(index / 2);
    if (!Number.isInteger(input) || input < 0 || input > block + 1) {
      throw new GenotypeError(`${where}[${index}]: block ${block} can read inputs 0..${block + 1}, not ${input}`);
    }
    if (!isOpName(op) || op === 'none') throw new GenotypeError(`${where}[${index}]: "${op}" is not a candidate operation`);
  });
}
