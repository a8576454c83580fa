import { BACKEND_CHOICES } from '@adl/backend';
import { z } from 'zod';
import { parseWithSchema } from './parse-with-schema.js';
import { MAX_CROP } from './search-config.js';

/**
 * Retraining of a found network (design §7). Defaults follow the DeepLab NAS code and the paper's
 * Cityscapes setting as we read them: poly schedule (power 0.9) from 0.05, momentum 0.9, weight decay
 * 4e-5, BatchNorm decay 0.9997 and epsilon 1e-3 (`nas_arg_scope`), batch 14, 769×769 crops, 500k
 * iterations, no drop path.
 */
export const RetrainConfigSchema = z
  .object({
    dataRoot: z.string().min(1),
    outDir: z.string().min(1),
    /** A preset name (`autodeeplab-s|m|l`) or an architecture JSON file written by search. */
    architecture: z.string().min(1),
    /** Overrides the architecture's F. */
    filterMultiplier: z.number().int().positive().optional(),
    /** Width of ASPP and decoder (256 in DeepLabv3+; smaller for quick runs on a CPU). */
    asppChannels: z.number().int().positive().default(256),
    /** ASPP rates (default DeepLabv3's for the output stride; lower them when crops are small). */
    asppRates: z.tuple([z.number().int().positive(), z.number().int().positive(), z.number().int().positive()]).optional(),
    iterations: z.number().int().positive().default(500_000),
    batchSize: z.number().int().positive().default(14),
    crop: z.number().int().positive().max(MAX_CROP).default(769),
    scale: z.tuple([z.number().positive(), z.number().positive()]).default([0.5, 2.0]),
    lr: z.number().positive().default(0.05),
    power: z.number().positive().default(0.9),
    momentum: z.number().min(0).max(1).default(0.9),
    weightDecay: z.number().nonnegative().default(4e-5),
    /** BatchNorm moving-average decay and epsilon of the DeepLab NAS arg scope (`nas_arg_scope`). */
    batchNormDecay: z.number().min(0).lt(1).default(0.9997),
    batchNormEpsilon: z.number().positive().default(1e-3),
    /**
     * Scheduled drop path (paper Table 3; `nas_cell.py`): the keep probability the last cell reaches at
     * the end of training; 1 (the default) drops nothing.
     */
    dropPathKeepProb: z.number().gt(0).max(1).default(1),
    /**
     * Recompute each cell whose output reaches 2^18 floats (`RECOMPUTE_MIN_OUTPUT_FLOATS` of @adl/ops) in
     * the backward pass instead of keeping its activations, as the search does: the same gradients for
     * one more forward pass of those cells and much less memory (autodeeplab-s at 769², batch 2, onednn:
     * 3.9 GB and 10.0 s a step instead of 6.8 GB and 9.2 s, measured before the loss kernel; at 129² no
     * cell reaches the size).
     */
    recompute: z.boolean().default(true),
    numClasses: z.number().int().positive().default(19),
    /** Evaluate on the validation slice every this many iterations (and at the end). */
    evalEvery: z.number().int().positive().default(5000),
    /** Validation images per evaluation (0 = the whole split). */
    valImages: z.number().int().nonnegative().default(0),
    checkpointEvery: z.number().int().positive().default(1000),
    /** Checkpoints kept on disk: the newest this many and the newest good one (the step after it had a sane loss), to go back to after a divergence. */
    keepCheckpoints: z.number().int().positive().default(3),
    seed: z.number().int().nonnegative().default(0),
    backend: z.enum(BACKEND_CHOICES).default('auto'),
    onBadFile: z.enum(['stop', 'skip']).default('stop'),
  })
  .strict();

export type RetrainConfig = z.infer<typeof RetrainConfigSchema>;
export type RetrainConfigInput = z.input<typeof RetrainConfigSchema>;

export function parseRetrainConfig(data: unknown, source = 'retrain config'): RetrainConfig {
  return parseWithSchema(RetrainConfigSchema, data, source);
}
