import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { generateKnownAnswerTask, writeFileAtomic, type KnownAnswerTask } from '@adl/data-cityscapes';
import { Rng } from '@adl/backend';
import { PRIMITIVES } from '@adl/ops';
import { retrain } from '@adl/search';
import { FixedNet, parseArchitecture, type Architecture } from '@adl/trellis';

/** How each architecture is retrained and measured: the same for the searched one and the random ones. */
export interface BaselineSettings {
  readonly images: { readonly train: number; readonly val: number; readonly size: number };
  readonly filterMultiplier: number;
  readonly iterations: number;
  readonly batchSize: number;
  readonly lr: number;
  /** The retrained networks' ASPP: width and rates (small images). */
  readonly aspp: { readonly channels: number; readonly rates: [number, number, number] };
  /** Random architectures per task, within ±10% of the searched one's multiply-adds. */
  readonly samples: number;
}

export const BASELINE_SETTINGS: BaselineSettings = {
  images: { train: 32, val: 8, size: 64 },
  filterMultiplier: 8,
  iterations: 200,
  batchSize: 4,
  lr: 0.05,
  aspp: { channels: 32, rates: [2, 4, 6] },
  samples: 4,
};

/**
 * An architecture drawn uniformly step by step from the search space: a path that starts at level 0
 * or 1 and moves at most one level per layer within 0..3 (what Viterbi decoding can return), and a cell
 * whose block b takes two different inputs among the b + 2 before it, each with a non-`none` op.
 */
export function sampleArchitecture(random: () => number, layers: number, blocks: number, filterMultiplier: number): Architecture {
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
  const path: number[] = [];
  for (let l = 0; l < layers; l++) {
    const previous = l === 0 ? 0 : path[l - 1];
    path.push(pick([previous - 1, previous, previous + 1].filter((level) => level >= 0 && level <= 3 && (l > 0 || level <= 1))));
  }
  const ops = PRIMITIVES.filter((op) => op !== 'none');
  const genotype: [number, string][] = [];
  for (let b = 0; b < blocks; b++) {
    const first = Math.floor(random() * (b + 2));
    let second = Math.floor(random() * (b + 1));
    if (second >= first) second++;
    genotype.push([first, pick(ops)], [second, pick(ops)]);
  }
  return parseArchitecture({ name: 'random', path, genotype, filterMultiplier });
}

/** Multiply-adds of the retrained network for one image of `size`². */
export function multAddsOf(architecture: Architecture, size: number, aspp = BASELINE_SETTINGS.aspp): number {
  const net = new FixedNet({ architecture, numClasses: 19, asppChannels: aspp.channels, asppRates: aspp.rates });
  const { multAdds } = net.cost([size, size]);
  net.dispose();
  return multAdds;
}

/** `samples` architectures within ±10% of `target` multiply-adds, with theirs, drawn with `seed` (rejection sampling). */
export function sampleAtCost(target: number, samples: number, seed: number, layers: number, blocks: number, filterMultiplier: number, size: number): { architecture: Architecture; multAdds: number }[] {
  const rng = new Rng(seed);
  const random = () => rng.next();
  const found: { architecture: Architecture; multAdds: number }[] = [];
  for (let tries = 0; found.length < samples; tries++) {
    if (tries > 2000) throw new Error(`fewer than ${samples} architectures within ±10% of ${target} multiply-adds in 2,000 draws`);
    const architecture = sampleArchitecture(random, layers, blocks, filterMultiplier);
    const multAdds = multAddsOf(architecture, size);
    if (Math.abs(multAdds / target - 1) <= 0.1) found.push({ architecture, multAdds });
  }
  return found;
}

/** Retrains `architecture` on the task's images (`dataDir`) and returns its best validation mIoU. */
export async function retrainedMiou(architecture: Architecture, settings: BaselineSettings, dataDir: string, runDir: string, seed = 0): Promise<number> {
  await rm(runDir, { recursive: true, force: true });
  const file = join(runDir, 'architecture.json');
  await writeFileAtomic(file, `${JSON.stringify(architecture, null, 2)}\n`);
  const { iterations, batchSize, lr, images, aspp } = settings;
  const result = await retrain(
    { dataRoot: dataDir, outDir: join(runDir, 'retrain'), architecture: file, asppChannels: aspp.channels, asppRates: aspp.rates, iterations, evalEvery: iterations, batchSize, crop: images.size, lr, checkpointEvery: iterations, scale: [1, 1], batchNormDecay: 0.9, recompute: false, seed },
    { progress: false, log: () => undefined },
  );
  return result.best?.valMiou ?? Number.NaN;
}

/** One task's comparison: the searched architecture's retrained mIoU against random ones of the same cost. */
export interface BaselineRow {
  readonly task: KnownAnswerTask;
  readonly searched: { readonly path: number[]; readonly multAdds: number; readonly miou: number };
  readonly random: { readonly path: number[]; readonly multAdds: number; readonly miou: number }[];
  readonly randomMedian: number;
  readonly randomBest: number;
}

export async function randomBaseline(task: KnownAnswerTask, searchedFile: string, settings: BaselineSettings, outDir: string, seed: number): Promise<BaselineRow> {
  const dataDir = join(outDir, 'baseline-data', task);
  await generateKnownAnswerTask({ task, dir: dataDir, count: { train: settings.images.train, val: settings.images.val }, size: settings.images.size, seed: 1 });
  const decoded = JSON.parse(await readFile(searchedFile, 'utf8'));
  const searched = parseArchitecture({ ...decoded, name: 'searched', filterMultiplier: settings.filterMultiplier });
  const size = settings.images.size;
  const target = multAddsOf(searched, size, settings.aspp);
  const candidates = sampleAtCost(target, settings.samples, seed, searched.path.length, searched.genotype.length / 2, settings.filterMultiplier, size);
  const measure = async (architecture: Architecture, multAdds: number, name: string) => ({
    path: [...architecture.path],
    multAdds,
    miou: await retrainedMiou(architecture, settings, dataDir, join(outDir, `baseline-${task}`, name)),
  });
  const searchedResult = await measure(searched, target, 'searched');
  const random = [];
  for (const [i, { architecture, multAdds }] of candidates.entries()) random.push(await measure(architecture, multAdds, `random-${i}`));
  const sorted = random.map((r) => r.miou).sort((a, b) => a - b);
  const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
  return { task, searched: searchedResult, random, randomMedian: median, randomBest: sorted[sorted.length - 1] };
}
