import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { levelStride } from '@adl/decode';
import { readPng } from '@adl/data-cityscapes';
import { itemsOfShard, parseShard, predictionPngNames, predictTrainIds, writePredictionPngs } from '@adl/eval';
import { loadTrainedNet, logToStderr, selectInstalledBackend } from '@adl/search';
import { CliError } from './summary.js';

export interface PredictOptions {
  readonly checkpoint: string;
  readonly out: string;
  readonly scales: readonly number[];
  readonly flip: boolean;
  /** Images larger than this are predicted in overlapping tiles (default `DEFAULT_TILE` of @adl/eval). */
  readonly tile?: readonly [number, number];
  readonly backend: string;
  /** Only this shard of the images (in the order they are listed): `I/N`, `auto` or `auto/N`. */
  readonly shard?: string;
  /** Leave an image whose three PNGs are already in `out` (a requeued shard redoes nothing). */
  readonly skipExisting?: boolean;
}

/**
 * What `predict` and `eval` write beside an image (`predictionPngNames`), and Cityscapes' own label
 * maps: in a folder of inputs these are outputs, not images to segment (a folder predicted into
 * itself would otherwise be predicted again, outputs and all).
 */
const OUTPUT_SUFFIXES = [...Object.values(predictionPngNames('', true)), '_labelTrainIds.png', '_instanceIds.png'].map((suffix) => suffix!.toLowerCase());
const isOutput = (file: string) => OUTPUT_SUFFIXES.some((suffix) => file.toLowerCase().endsWith(suffix));

/** PNG files named directly, and the PNGs inside named folders (not recursive) other than outputs, in order. */
async function expandInputs(inputs: readonly string[], log: (line: string) => void): Promise<string[]> {
  const files: string[] = [];
  for (const input of inputs) {
    const info = await stat(input).catch(() => {
      throw new CliError(`${input}: no such file or folder`);
    });
    if (!info.isDirectory()) {
      files.push(input);
      continue;
    }
    const pngs = (await readdir(input)).filter((f) => f.toLowerCase().endsWith('.png')).sort();
    const outputs = pngs.filter(isOutput);
    if (outputs.length) log(`[adl] ${input}: left out ${outputs.length} PNG(s) named as predictions or label maps (*_labelIds, _color, _overlay, _compare …), e.g. ${outputs[0]}`);
    files.push(...pngs.filter((f) => !isOutput(f)).map((f) => join(input, f)));
  }
  if (files.length === 0) throw new CliError(`no PNG images in ${inputs.join(', ')}`);
  return files;
}

/** `adl predict`: label-id, colour and overlay PNGs for images without labels. */
export async function runPredict(inputs: readonly string[], options: PredictOptions, log: (line: string) => void = logToStderr): Promise<string[]> {
  if ((await stat(options.out).catch(() => undefined))?.isFile()) throw new CliError(`--out ${options.out}: is a file; give a folder for the predictions`);
  const files = await expandInputs(inputs, log);
  const stemOf = (file: string) => basename(file, extname(file)).replace(/_leftImg8bit$/, '');
  const firstWithStem = new Map<string, string>();
  for (const file of files) {
    const earlier = firstWithStem.get(stemOf(file));
    if (earlier) throw new CliError(`${earlier} and ${file} would both be written as ${join(options.out, predictionPngNames(stemOf(file)).labelIds)}: predict them into different folders`);
    firstWithStem.set(stemOf(file), file);
  }
  const shard = options.shard === undefined ? undefined : parseShard(options.shard);
  const ours = shard ? itemsOfShard(files, shard) : files;
  const outputsOf = (file: string) => {
    const names = predictionPngNames(stemOf(file));
    return [names.labelIds, names.color, names.overlay].map((name) => join(options.out, name));
  };
  const exists = (path: string) => stat(path).then(() => true, () => false);
  const todo = [];
  for (const file of ours) if (!options.skipExisting || !(await Promise.all(outputsOf(file).map(exists))).every(Boolean)) todo.push(file);
  if (shard) log(`[adl] shard ${shard.index}/${shard.count}: ${ours.length} of ${files.length} images`);
  if (todo.length < ours.length) log(`[adl] ${ours.length - todo.length} already predicted in ${options.out}, left as they are`);
  const { kernels } = await selectInstalledBackend({ backend: options.backend as never, log });
  const { net } = await loadTrainedNet(options.checkpoint);
  const written: string[] = [];
  try {
    for (const [index, file] of todo.entries()) {
      const image = await readPng(file, 3).catch((error: Error) => {
        throw new CliError(`${file}: cannot decode PNG (${error.message.split('\n')[0]})`);
      });
      const started = performance.now();
      const onTile = (done: number, total: number) => log(`[adl] ${file}: tile ${done}/${total}, ${((performance.now() - started) / 1000).toFixed(0)} s`);
      const ids = await predictTrainIds(net, image, { kernels, scales: options.scales, flip: options.flip, tile: options.tile, outputStride: levelStride(Math.max(...net.path)), onTile });
      await writePredictionPngs(options.out, stemOf(file), image, ids);
      written.push(...outputsOf(file));
      log(`[adl] ${index + 1}/${todo.length} ${file}: ${(performance.now() - started).toFixed(0)} ms`);
    }
  } finally {
    net.dispose();
  }
  return written;
}
