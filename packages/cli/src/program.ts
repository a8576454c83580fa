import { BACKEND_CHOICES } from '@adl/backend';
import { writeRunReport } from '@adl/eval';
import type { RunOptions } from '@adl/search';
import { Command, InvalidArgumentError } from 'commander';
import { runDecode, runRetrain, runSearch, type RunFlags } from './commands.js';
import { runBench } from './bench-command.js';
import { EvalConfigSchema, resolveConfig, runEval } from './eval-command.js';
import { compareRuns, formatComparison } from './compare-command.js';
import { runMerge } from './merge-command.js';
import { runPredict } from './predict-command.js';
import { runExport } from './export-command.js';
import { netSourceOptions } from './net-source.js';
import { formatSummary, summarize } from './summary.js';

function integer(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('expected a positive integer');
  return parsed;
}

function count(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new InvalidArgumentError('expected 0 or a positive integer');
  return parsed;
}

function scaleList(value: string): number[] {
  const scales = value.split(',').map(Number);
  if (scales.some((s) => !(s > 0))) throw new InvalidArgumentError('expected positive numbers separated by commas, e.g. 0.75,1,1.25');
  return scales;
}

function tileSize(value: string): [number, number] {
  const match = /^(\d+)x(\d+)$/.exec(value);
  if (!match || Number(match[1]) < 1 || Number(match[2]) < 1) throw new InvalidArgumentError('expected HEIGHTxWIDTH in pixels, e.g. 513x1025');
  return [Number(match[1]), Number(match[2])];
}

const RUN_FLAGS = {
  acceptChanges: 'with --resume: continue although settings that change the result differ from the checkpoint (e.g. a lower learning rate after a divergence)',
  force: 'empty an output folder that holds another run instead of refusing it',
  plan: 'write nothing: time one untimed and N timed steps of each kind and a validation pass, then print the time per step, the total and the peak memory',
  seed: "the config's seed instead (a sweep: one run per seed); on --resume, a seed other than the checkpoint's is refused unless --accept-changes",
  out: "the config's outDir instead",
};

/** The run options of `search` and `retrain` from their flags. */
function runFlags(options: { resume?: boolean; acceptChanges?: boolean; force?: boolean; plan?: number | boolean; seed?: number; out?: string }): RunFlags {
  const overrides = { ...(options.seed === undefined ? {} : { seed: options.seed }), ...(options.out === undefined ? {} : { outDir: options.out }) };
  const flags = { resume: Boolean(options.resume), acceptChanges: Boolean(options.acceptChanges), force: Boolean(options.force), overrides };
  if (options.plan === undefined || options.plan === false) return flags;
  return { ...flags, planSteps: options.plan === true ? 2 : options.plan };
}

const SHARD_HELP = 'only image k of the sorted list with k mod N = I; auto: the Slurm array task (SLURM_ARRAY_TASK_ID of SLURM_ARRAY_TASK_COUNT), auto/N: the Kubernetes Indexed Job index (JOB_COMPLETION_INDEX) of N';
const TILE_HELP = 'predict images larger than this in overlapping tiles (default 1025x2049: a whole Cityscapes image is one tile)';

function backendName(value: string): string {
  if (!(BACKEND_CHOICES as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${BACKEND_CHOICES.join(', ')}`);
  return value;
}

/** The `adl` command line. */
export function createProgram(): Command {
  const program = new Command('adl').description('Auto-DeepLab: hierarchical architecture search for segmentation');
  program
    .command('summary')
    .description('parameters and multiply-adds of a retrain network (preset or architecture JSON)')
    .option('--preset <name>', 'autodeeplab-s, autodeeplab-m or autodeeplab-l')
    .option('--arch <file>', 'architecture JSON written by search + decode')
    .option('--height <pixels>', 'input height', integer, 1024)
    .option('--width <pixels>', 'input width', integer, 2048)
    .option('--classes <count>', 'output classes', integer, 19)
    .option('--json', 'print one JSON line {"params", "multAdds", "tfMultAdds"}')
    .action(async (options) => {
      const summary = await summarize({ ...options, numClasses: options.classes });
      if (options.json) process.stdout.write(`${JSON.stringify({ params: summary.params, multAdds: summary.multAdds, tfMultAdds: summary.tfMultAdds })}\n`);
      else process.stdout.write(`${formatSummary(summary)}\n`);
    });
  program
    .command('search')
    .description('architecture search on a Cityscapes-layout folder (design §5); writes the log, snapshots, checkpoints and architecture.json to outDir')
    .requiredOption('--config <file>', 'search config JSON (fields: see @adl/search SearchConfigSchema; dataRoot and outDir required)')
    .option('--resume', 'continue from outDir/checkpoint.json')
    .option('--accept-changes', RUN_FLAGS.acceptChanges)
    .option('--force', RUN_FLAGS.force)
    .option('--plan [steps]', RUN_FLAGS.plan, integer)
    .option('--seed <n>', RUN_FLAGS.seed, count)
    .option('--out <dir>', RUN_FLAGS.out)
    .action(async (options) => runSearch(options.config, runFlags(options)));
  program
    .command('decode')
    .description('architecture JSON from a search checkpoint folder or an α/β JSON file')
    .requiredOption('--from <path>', 'search outDir (checkpoint) or alpha-beta/epoch-NNN.json')
    .option('--out <file>', 'write here (atomically) instead of stdout')
    .option('--filter-multiplier <F>', 'F of the retrain network', integer, 20)
    .option('--blocks <B>', 'blocks per cell', integer, 5)
    .action(async (options) => {
      await runDecode(options.from, { out: options.out, filterMultiplier: options.filterMultiplier, blocks: options.blocks });
    });
  program
    .command('retrain')
    .description('train the fixed network of a preset or architecture JSON (design §7), keeping the best checkpoint')
    .requiredOption('--config <file>', 'retrain config JSON (fields: see @adl/search RetrainConfigSchema)')
    .option('--resume', 'continue from outDir/checkpoint.json')
    .option('--accept-changes', RUN_FLAGS.acceptChanges)
    .option('--force', RUN_FLAGS.force)
    .option('--plan [steps]', RUN_FLAGS.plan, integer)
    .option('--seed <n>', RUN_FLAGS.seed, count)
    .option('--out <dir>', RUN_FLAGS.out)
    .action(async (options) => runRetrain(options.config, runFlags(options)));
  program
    .command('eval')
    .description('score a retrained net on a split: per-class IoU table; with --out, label-id/colour/overlay/comparison PNGs, metrics.json, iou.md')
    .option('--config <file>', 'eval config JSON (checkpoint, dataRoot, split, outDir, scales, flip, tile, images, shard, imagesWritten, backend); flags override it')
    .option('--checkpoint <dir>', 'retraining output folder or its best/')
    .option('--data <root>', 'Cityscapes-layout dataset root')
    .option('--split <name>', 'train, val or test (default val)')
    .option('--out <dir>', 'write predictions and tables here')
    .option('--scales <list>', 'multi-scale inference, e.g. 0.75,1,1.25 (default 1)', scaleList)
    .option('--flip', 'also average the horizontally flipped image')
    .option('--images <count>', 'only the first N images', integer)
    .option('--shard <I/N>', SHARD_HELP)
    .option('--tile <HxW>', TILE_HELP, tileSize)
    .option('--backend <name>', `one of ${BACKEND_CHOICES.join(', ')}`, backendName)
    .option('--json', 'print the metrics as one JSON line instead of the table')
    .action(async (options) => {
      const config = await resolveConfig(EvalConfigSchema, options.config, {
        checkpoint: options.checkpoint,
        dataRoot: options.data,
        split: options.split,
        outDir: options.out,
        scales: options.scales,
        flip: options.flip,
        images: options.images,
        shard: options.shard,
        tile: options.tile,
        backend: options.backend,
      });
      await runEval(config, { json: Boolean(options.json) });
    });
  program
    .command('compare')
    .description('the runs of a sweep side by side (search or retrain outDirs): best validation mIoU, path, multiply-adds, progress, time')
    .argument('<runs...>', 'run folders')
    .option('--json', 'print the runs as one JSON line instead of the table')
    .action(async (runs: string[], options) => {
      const compared = await compareRuns(runs);
      process.stdout.write(options.json ? `${JSON.stringify(compared)}\n` : `${formatComparison(compared)}\n`);
    });
  program
    .command('merge')
    .description('add the shards of one adl eval --shard (their --out folders, every shard once) into one folder: metrics.json and iou.md as one unsharded eval writes them, the PNGs, the table')
    .argument('<dirs...>', 'the shards\' output folders')
    .requiredOption('--out <dir>', 'output folder')
    .option('--json', 'print the metrics as one JSON line instead of the table')
    .action(async (dirs: string[], options) => {
      await runMerge(dirs, options.out, { json: Boolean(options.json) });
    });
  program
    .command('predict')
    .description('segment PNG images (files or folders): writes <name>_labelIds.png, _color.png and _overlay.png')
    .argument('<images...>', 'PNG files or folders of PNGs')
    .requiredOption('--checkpoint <dir>', 'retraining output folder or its best/')
    .requiredOption('--out <dir>', 'output folder')
    .option('--scales <list>', 'multi-scale inference, e.g. 0.75,1,1.25', scaleList, [1])
    .option('--flip', 'also average the horizontally flipped image')
    .option('--tile <HxW>', TILE_HELP, tileSize)
    .option('--backend <name>', `one of ${BACKEND_CHOICES.join(', ')}`, backendName, 'auto')
    .option('--shard <I/N>', SHARD_HELP)
    .option('--skip-existing', 'leave images whose three PNGs are already in --out (a requeued shard redoes nothing)')
    .action(async (images: string[], options) => {
      const written = await runPredict(images, { checkpoint: options.checkpoint, out: options.out, scales: options.scales, flip: Boolean(options.flip), tile: options.tile, backend: options.backend, shard: options.shard, skipExisting: Boolean(options.skipExisting) });
      process.stdout.write(`${written.join('\n')}\n`);
    });
  netSourceOptions(program.command('export'), integer)
    .description('write the network as an ONNX model for one input size: input image [1,3,H,W] RGB 0-255, outputs logits [1,classes,H,W] and labels [1,H,W]')
    .requiredOption('--out <file>', 'the .onnx file to write')
    .option('--backend <name>', `one of ${BACKEND_CHOICES.join(', ')}`, backendName, 'auto')
    .action(async (options) => {
      const { out } = await runExport({ ...options, numClasses: options.classes });
      process.stdout.write(`${out}\n`);
    });
  program
    .command('report')
    .description('write <runDir>/report.html from the run folders search/, retrain/ and eval/ (the quickstart layout) and architecture.json')
    .argument('<runDir>', 'the run folder')
    .action(async (runDir: string) => {
      process.stdout.write(`${await writeRunReport(runDir)}\n`);
    });
  netSourceOptions(program.command('bench'), integer)
    .description('inference latency of a fixed net per image at a given size on the current backend')
    .option('--runs <count>', 'timed runs', integer, 5)
    .option('--warmup <count>', 'untimed runs first', count, 1)
    .option('--backend <name>', `one of ${BACKEND_CHOICES.join(', ')}`, backendName, 'auto')
    .option('--json', 'print one JSON line')
    .action(async (options) => {
      const result = await runBench({ ...options, numClasses: options.classes });
      const line = `${result.name} at ${result.height}×${result.width} on ${result.backend}: median ${result.medianMs.toFixed(1)} ms per image (min ${result.minMs.toFixed(1)}, max ${result.maxMs.toFixed(1)}, ${result.runs} runs), ${result.imagesPerSecond.toFixed(2)} images/s`;
      process.stdout.write(`${options.json ? JSON.stringify(result) : line}\n`);
    });
  return program;
}
