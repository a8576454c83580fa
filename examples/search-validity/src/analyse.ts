import type { KnownAnswerTask } from '@adl/data-cityscapes';
import { normalizeBetas, softmax } from '@adl/decode';

/** A decoded architecture as the search writes it: the path's level per layer, the cell's [input, op] pairs. */
export interface Decoded {
  readonly path: readonly number[];
  readonly genotype: readonly (readonly [number, string])[];
}

/** The ops whose receptive field is larger than a 3×3 conv's (atrous at rate 2, and 5×5). */
export const LARGE_FIELD_OPS: readonly string[] = ['sep_conv_5x5', 'atrous_conv_3x3', 'atrous_conv_5x5'];

export function meanLevel(path: readonly number[]): number {
  return path.reduce((a, b) => a + b, 0) / path.length;
}

/** How often each op is in the genotype, by name. */
export function opMix(genotype: Decoded['genotype']): Record<string, number> {
  const mix: Record<string, number> = {};
  for (const [, op] of genotype) mix[op] = (mix[op] ?? 0) + 1;
  return mix;
}

/** The share of the genotype's ops with a receptive field larger than 3×3 (`LARGE_FIELD_OPS`). */
export function largeFieldShare(genotype: Decoded['genotype']): number {
  return genotype.filter(([, op]) => LARGE_FIELD_OPS.includes(op)).length / genotype.length;
}

const entropy = (p: readonly number[]) => -p.reduce((sum, v) => (v > 0 ? sum + v * Math.log(v) : sum), 0);

/**
 * Mean entropy of softmax(α) per edge and of β̂ per node with a choice (two or three valid moves),
 * each as a fraction of its largest (1 = uniform, where the search starts; 0 = one choice certain).
 */
export function architectureEntropy(alpha: readonly (readonly number[])[], beta: readonly (readonly (readonly number[])[])[]): { alpha: number; beta: number } {
  const alphaEntropy = alpha.map((row) => entropy(softmax(row)) / Math.log(row.length));
  const betaEntropy = normalizeBetas(beta).flatMap((layer) =>
    layer.flatMap((logProbs) => {
      const p = logProbs.filter((v) => v > -Infinity).map(Math.exp);
      return p.length >= 2 ? [entropy(p) / Math.log(p.length)] : [];
    }),
  );
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(values.length, 1);
  return { alpha: mean(alphaEntropy), beta: mean(betaEntropy) };
}

/**
 * What each task expects of the search, in words and as a check. The detail and context tasks' answers
 * are the paths that retrain better on them (`pnpm paths`: one cell on the fine path [0 0 0 0] and on
 * the coarse one [1 2 3 3], equal cost, 3 seeds each, 64² images): the coarse path on the detail task
 * (the decoder takes its stride-4 features from the stem, a short route for thin lines, and the coarse
 * cells see a line's dashes), the fine one on the context task (at 64² stride 32 leaves 2 × 2 features).
 */
export const EXPECTATIONS: Record<KnownAnswerTask, { readonly says: string; readonly held: (decoded: Decoded, betaEntropy: { start: number; end: number }) => boolean }> = {
  detail: {
    says: 'the path goes down to the coarse levels, which retrain better here: it reaches stride 16 or 32 (level ≥ 2) and its mean level is at least 1.5',
    held: ({ path }) => Math.max(...path) >= 2 && meanLevel(path) >= 1.5,
  },
  context: {
    says: 'the path stays at the fine levels, which retrain better here: every layer at stride 4 or 8 (level ≤ 1)',
    held: ({ path }) => path.every((level) => level <= 1),
  },
  control: {
    says: 'β stays near where it started: its mean entropy keeps at least 95% of its largest',
    held: (_decoded, { end }) => end >= 0.95,
  },
};
