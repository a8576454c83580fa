import { BACKEND_CHOICES } from '@adl/backend';
import { z } from 'zod';
import { ConfigError, parseWithSchema } from './parse-with-schema.js';

/** The largest crop side accepted: twice Cityscapes' width, far above any crop a GPU or this code's buffers hold in a batch. */
export const MAX_CROP = 4096;

/**
 * Refuses a training crop smaller than the network's output stride (`why` says which level sets it):
 * the coarsest features of such a crop would be under one pixel.
 */
export function assertCropFits(crop: number, outputStride: number, why: string): void {
  if (crop < outputStride) {
    throw new ConfigError(`crop ${crop}: smaller than the network's output stride ${outputStride} (${why}): its coarsest features would be under one pixel; use a crop of at least ${outputStride}`);
  }
}

/** Every hyper-parameter of the search (design §5); the defaults are the paper's. */
export const SearchConfigSchema = z
  .object({
    /** Dataset root in the Cityscapes layout (train split searched, val split for the held-out slice). */
    dataRoot: z.string().min(1),
    /** Where checkpoints, the JSONL log, α/β snapshots and the architecture are written. */
    outDir: z.string().min(1),
    epochs: z.number().int().positive().default(40),
    /** α and β are frozen for these first epochs. */
    warmupEpochs: z.number().int().nonnegative().default(20),
    batchSize: z.number().int().positive().default(2),
    /** Square random crops (321 in the paper). */
    crop: z.number().int().positive().max(MAX_CROP).default(321),
    /** Random scale range of augmentation. */
    scale: z.tuple([z.number().positive(), z.number().positive()]).default([0.5, 2.0]),
    layers: z.number().int().positive().default(12),
    blocks: z.number().int().positive().default(5),
    filterMultiplier: z.number().int().positive().default(8),
    numClasses: z.number().int().positive().default(19),
    /** Recompute each mixed op, and each cell whose output reaches 2^18 floats, in the backward pass instead of keeping their activations (same gradients, far less memory, ~⅓ more compute). */
    recompute: z.boolean().default(true),
    /**
     * Beyond the paper: K of a partial-channel search (PC-DARTS): each mixed op computes on 1/K of its
     * channels, about 1/K of the search's memory and time. 1, the paper's search, by default.
     */
    partialChannels: z.number().int().positive().default(1),
    /**
     * How Eq. 6 is read: one search cell per incoming edge of a node (`per-edge`, the default, as the
     * paper's cell count and weights), or one per node on the β̂-weighted sum of its sources (`per-node`).
     */
    cells: z.enum(['per-edge', 'per-node']).default('per-edge'),
    weights: z
      .object({
        lrMax: z.number().positive().default(0.025),
        lrMin: z.number().nonnegative().default(0.001),
        momentum: z.number().min(0).max(1).default(0.9),
        weightDecay: z.number().nonnegative().default(3e-4),
      })
      .default({ lrMax: 0.025, lrMin: 0.001, momentum: 0.9, weightDecay: 3e-4 }),
    architecture: z
      .object({
        lr: z.number().positive().default(3e-3),
        beta1: z.number().min(0).max(1).default(0.9),
        beta2: z.number().min(0).max(1).default(0.999),
        weightDecay: z.number().nonnegative().default(1e-3),
      })
      .default({ lr: 3e-3, beta1: 0.9, beta2: 0.999, weightDecay: 1e-3 }),
    /** Cap on steps per epoch (default: as many as trainA and trainB allow). */
    stepsPerEpoch: z.number().int().positive().optional(),
    /** Validation images evaluated after each epoch (the held-out slice). */
    valImages: z.number().int().nonnegative().default(2),
    /** A checkpoint every this many steps, and at the end of every epoch. */
    checkpointEvery: z.number().int().positive().default(50),
    /** Checkpoints kept on disk: the newest this many and the newest good one (the step after it had a sane loss), to go back to after a divergence. */
    keepCheckpoints: z.number().int().positive().default(3),
    /** F of the architecture written at the end (the retrain width; 20 = Auto-DeepLab-S). */
    retrainFilterMultiplier: z.number().int().positive().default(20),
    seed: z.number().int().nonnegative().default(0),
    /** `auto` or a backend name (see `selectBackend`). */
    backend: z.enum(BACKEND_CHOICES).default('auto'),
    /** Bad files: stop with the list, or skip and count. */
    onBadFile: z.enum(['stop', 'skip']).default('stop'),
  })
  .strict();

export type SearchConfig = z.infer<typeof SearchConfigSchema>;
export type SearchConfigInput = z.input<typeof SearchConfigSchema>;

/** Validates a search config; errors name the source and each bad field. */
export function parseSearchConfig(data: unknown, source = 'search config'): SearchConfig {
  const config = parseWithSchema(SearchConfigSchema, data, source);
  if (config.warmupEpochs > config.epochs) {
    throw new ConfigError(`${source}: warmupEpochs (${config.warmupEpochs}) exceeds epochs (${config.epochs})`);
  }
  return config;
}
