import { LEVELS } from '@adl/decode';
import { PRIMITIVES } from '@adl/ops';
import { assertValidGenotype } from '@adl/cell';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';

export class ArchitectureError extends Error {
  override name = 'ArchitectureError';
}

/**
 * A network-level path is valid when it starts at level 0 or 1 (the stem is at level 0), moves at
 * most one level per layer, and stays within 0..3. `where` names the source in errors.
 */
export function assertValidPath(levels: readonly number[], where = 'path'): void {
  if (!Array.isArray(levels) || levels.length === 0) throw new ArchitectureError(`${where}: expected a non-empty list of levels`);
  let previous = 0;
  levels.forEach((level, layer) => {
    if (!Number.isInteger(level) || level < 0 || level >= LEVELS) {
      throw new ArchitectureError(`${where}[${layer}]: level ${level} is not one of 0, 1, 2, 3`);
    }
    if (Math.abs(level - previous) > 1) {
      throw new ArchitectureError(`${where}[${layer}]: level ${level} after level ${previous} jumps by more than one`);
    }
    previous = level;
  });
}

const opNames = PRIMITIVES.filter((name) => name !== 'none') as [string, ...string[]];

/** A found architecture as saved by search + decode and loaded by retraining and `adl summary --arch`. */
export const ArchitectureSchema = z
  .object({
    name: z.string().optional(),
    /** Level per layer, `p_0 … p_{L−1}`. */
    path: z.array(z.number().int().min(0).max(LEVELS - 1)).min(1),
    /** Two `[input, op]` edges per block (input 0 = h_prev_prev, 1 = h_prev, 2 + b = block b). */
    genotype: z.array(z.tuple([z.number().int().min(0), z.enum(opNames)])).min(2),
    /** F: a level-i block has F·2^i channels. */
    filterMultiplier: z.number().int().positive(),
  })
  .strict()
  .superRefine((architecture, context) => {
    for (const [check, field] of [
      [() => assertValidPath(architecture.path), 'path'],
      [() => assertValidGenotype(architecture.genotype as never), 'genotype'],
    ] as const) {
      try {
        check();
      } catch (error) {
        context.addIssue({ code: 'custom', path: [field], message: (error as Error).message });
      }
    }
  });

export type Architecture = z.infer<typeof ArchitectureSchema>;

/** Parses and validates an architecture; errors name `source` (a file name) and the bad field. */
export function parseArchitecture(data: unknown, source = 'architecture'): Architecture {
  const result = ArchitectureSchema.safeParse(data);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new ArchitectureError(`${source}: ${problems.join('; ')}`);
  }
  return result.data;
}

/** Reads and validates an architecture JSON file; errors name the file. */
export async function readArchitectureFile(file: string): Promise<Architecture> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ArchitectureError(`${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? error})`, { cause: error });
  }
  let data: unknown;
  try {
    // A byte-order mark (editors on Windows save one) is not part of the JSON.
    data = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new ArchitectureError(`${file}: not valid JSON (${(error as Error).message})`);
  }
  return parseArchitecture(data, file);
}
