import { join } from 'node:path';
import { levelStride } from '@adl/decode';
import { listSplit, SPLITS, TRAIN_CLASS_NAMES } from '@adl/data-cityscapes';
import { DEFAULT_TILE, evaluateSamples, iouTableJson, iouTableMarkdown, itemsOfShard, parseShard } from '@adl/eval';
import { BACKEND_CHOICES } from '@adl/backend';
import { loadTrainedNet, logToStderr, parseWithSchema, readCheckpointManifest, selectInstalledBackend } from '@adl/search';
import { z } from 'zod';
import { configWithFlags } from './commands.js';

const BackendSchema = z.enum(BACKEND_CHOICES);

/** `adl eval` settings, from `--config` and/or flags (flags win). */
export const EvalConfigSchema = z
  .object({
    /** A retraining output folder or its `best/` (anything `loadTrainedNet` reads). */
    checkpoint: z.string().min(1),
    /** Cityscapes-layout root. */
    dataRoot: z.string().min(1),
    split: z.enum(SPLITS).default('val'),
    /** Where submission/, predictions/, metrics.json and iou.md go (nothing written without it). */
    outDir: z.string().min(1).optional(),
    /** Averaged input scales (DeepLab's multi-scale test uses 0.5 … 1.75). */
    scales: z.array(z.number().positive()).min(1).default([1]),
    flip: z.boolean().default(false),
    /** Images larger than this [height, width] are predicted in overlapping tiles (default: a whole 1024×2048 image is one). */
    tile: z.tuple([z.number().int().positive(), z.number().int().positive()]).default([...DEFAULT_TILE]),
    /** Evaluate only the first N images of the split. */
    images: z.number().int().positive().optional(),
    /** Only this shard of the (first N) images: `I/N`, `auto` (a Slurm array task) or `auto/N` (a Kubernetes Indexed Job). */
    shard: z.string().min(1).optional(),
    /** PNGs for the first N images (default: all evaluated). */
    imagesWritten: z.number().int().nonnegative().optional(),
    backend: BackendSchema.default('auto'),
  })
  .strict();

export type EvalConfig = z.infer<typeof EvalConfigSchema>;

/** Merges a config file (when given) with flags, drops undefined flags, validates. */
export async function resolveConfig<Schema extends z.ZodType>(schema: Schema, configFile: string | undefined, flags: Record<string, unknown>): Promise<z.infer<Schema>> {
  return parseWithSchema(schema, await configWithFlags(configFile, flags), configFile ? `${configFile} (with command-line flags)` : 'command line');
}

/** `adl eval`: scores a retrained net on a split, prints the per-class IoU table, writes the outputs. */
export async function runEval(config: EvalConfig, { json = false, log = logToStderr } = {}) {
  const shard = config.shard === undefined ? undefined : parseShard(config.shard);
  const { kernels } = await selectInstalledBackend({ backend: config.backend, log });
  const { net, spec } = await loadTrainedNet(config.checkpoint);
  try {
    const all = await listSplit(config.dataRoot, config.split);
    const listed = config.images ? all.slice(0, config.images) : all;
    const samples = shard ? itemsOfShard(listed, shard) : listed;
    // What shards must share to be merged: the weights (their checksum), the split and the list sharded.
    const weights = (await readCheckpointManifest(config.checkpoint))?.sha256 ?? config.checkpoint;
    if (shard) log(`[adl] shard ${shard.index}/${shard.count}: ${samples.length} of ${listed.length} images`);
    const classNames = spec.numClasses === TRAIN_CLASS_NAMES.length ? TRAIN_CLASS_NAMES : [];
    const report = await evaluateSamples(net, samples, {
      kernels,
      numClasses: spec.numClasses,
      classNames,
      scales: config.scales,
      flip: config.flip,
      tile: config.tile,
      outputStride: levelStride(Math.max(...net.path)),
      outDir: config.outDir,
      imagesWritten: config.imagesWritten,
      shard,
      setting: { weights, split: config.split, listed: listed.length },
      onImage: (done, total, name) => log(`[adl] ${done}/${total} ${name}`),
    });
    if (json) process.stdout.write(`${JSON.stringify({ ...iouTableJson(report.metrics, classNames), images: report.images, msPerImage: report.msPerImage })}\n`);
    else process.stdout.write(`${iouTableMarkdown(report.metrics, classNames)}\n\n${report.images} images, ${report.msPerImage.toFixed(0)} ms per image (scales ${config.scales.join(', ')}${config.flip ? ', flip' : ''})\n`);
    if (config.outDir) log(`[adl] wrote ${join(config.outDir, 'metrics.json')}, iou.md, evaluation.json, ${report.images} label-id PNGs under submission/ (the official scripts' CITYSCAPES_RESULTS) and ${report.files.length * 3} pictures under predictions/`);
    return report;
  } finally {
    net.dispose();
  }
}
