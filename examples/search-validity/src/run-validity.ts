import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { generateKnownAnswerTask, writeFileAtomic, type KnownAnswerTask } from '@adl/data-cityscapes';
import { RUN_FOLDERS, writeRunReport } from '@adl/eval';
import { architectureLosses, parseSearchConfig, search, type ArchitectureLosses } from '@adl/search';
import { architectureEntropy, EXPECTATIONS, largeFieldShare, meanLevel, opMix } from './analyse.js';
import type { ValiditySettings } from './settings.js';

/** One task searched with one seed: what it found and whether the task's expectation held. */
export interface ValidityRow {
  readonly task: KnownAnswerTask;
  readonly seed: number;
  readonly path: number[];
  readonly meanLevel: number;
  readonly genotype: [number, string][];
  readonly opMix: Record<string, number>;
  readonly largeFieldShare: number;
  /** Mean α and β̂ entropy after each epoch, as a fraction of the largest. */
  readonly entropy: { readonly epoch: number; readonly alpha: number; readonly beta: number }[];
  /** The trainB loss at the search's final weights under its starting and found α and β (what each lowered). */
  readonly trainBLoss: ArchitectureLosses;
  readonly expectation: string;
  readonly expectationHeld: boolean;
  readonly seconds: number;
}

/** Generates the task's images once (`dataDir`), searches it with `seed` into `runDir`, and reads what the search found. */
export async function runValidity(task: KnownAnswerTask, seed: number, settings: ValiditySettings, dataDir: string, runDir: string, log: (line: string) => void): Promise<ValidityRow> {
  const started = performance.now();
  const { images, search: s } = settings;
  if ((await readdir(dataDir).catch(() => [])).length === 0) await generateKnownAnswerTask({ task, dir: dataDir, count: { train: images.train }, size: images.size });
  await rm(runDir, { recursive: true, force: true });
  const searchDir = join(runDir, RUN_FOLDERS.search);
  const config = parseSearchConfig({
    dataRoot: dataDir,
    outDir: searchDir,
    layers: s.layers,
    filterMultiplier: s.filterMultiplier,
    epochs: s.epochs,
    warmupEpochs: s.warmupEpochs,
    stepsPerEpoch: s.stepsPerEpoch,
    crop: images.size,
    scale: [1, 1],
    valImages: 0,
    checkpointEvery: s.epochs * s.stepsPerEpoch,
    architecture: { lr: s.architectureLr },
    cells: s.cells,
    seed,
  });
  const result = await search(config, { progress: false, log });
  const trainBLoss = await architectureLosses(config, result);
  const found = result.records[result.records.length - 1];
  const snapshots = (await readdir(join(searchDir, 'alpha-beta'))).sort();
  const entropy = await Promise.all(snapshots.map(async (file) => {
    const { epoch, alpha, beta } = JSON.parse(await readFile(join(searchDir, 'alpha-beta', file), 'utf8'));
    return { epoch, ...architectureEntropy(alpha, beta) };
  }));
  const decoded = { path: found.path, genotype: found.genotype as [number, string][] };
  const expectation = EXPECTATIONS[task];
  const held = expectation.held(decoded, { start: entropy[0].beta, end: entropy[entropy.length - 1].beta });
  const row: ValidityRow = {
    task,
    seed,
    path: found.path,
    meanLevel: meanLevel(found.path),
    genotype: decoded.genotype,
    opMix: opMix(decoded.genotype),
    largeFieldShare: largeFieldShare(decoded.genotype),
    entropy,
    trainBLoss,
    expectation: expectation.says,
    expectationHeld: held,
    seconds: (performance.now() - started) / 1000,
  };
  // The run report of this search: its path, cell, α and β over the epochs, and what was expected.
  await writeFileAtomic(join(runDir, 'architecture.json'), `${JSON.stringify({ name: `${task}-seed${seed}`, ...decoded, filterMultiplier: s.filterMultiplier }, null, 2)}\n`);
  const facts: [string, string][] = [
    ['task', `${task}: ${images.train} images of ${images.size}×${images.size}`],
    ['search', `L = ${s.layers}, F = ${s.filterMultiplier}, cells ${s.cells ?? 'per-edge'}, ${s.epochs} epochs (${s.warmupEpochs} warm-up) × ${s.stepsPerEpoch} steps, seed ${seed}, α/β Adam lr ${s.architectureLr}: ${row.seconds.toFixed(0)} s`],
    ['expected', expectation.says],
    ['found', `path [${row.path.join(', ')}] (mean level ${row.meanLevel.toFixed(2)}); ${(100 * row.largeFieldShare).toFixed(0)}% of the cell's ops with a field larger than 3×3`],
    ['held', held ? 'yes' : 'no'],
    ['trainB loss', `${trainBLoss.start.toFixed(3)} with the starting α and β, ${trainBLoss.found.toFixed(3)} with the found ones (found α only ${trainBLoss.alphaOnly.toFixed(3)}, found β only ${trainBLoss.betaOnly.toFixed(3)}), at the final weights`],
    ['α, β entropy', `${entropy.map((e) => `${e.alpha.toFixed(3)}/${e.beta.toFixed(3)}`).join(' → ')} (per epoch, fraction of uniform)`],
  ];
  await writeFileAtomic(join(runDir, 'summary.json'), `${JSON.stringify({ row, report: { title: `Search validity: ${task}, seed ${seed}`, facts } }, null, 2)}\n`);
  await writeRunReport(runDir);
  return row;
}

/** The table of all rows, as markdown. */
export function validityTable(rows: readonly ValidityRow[]): string {
  const lines = [
    '| task | seed | path | mean level | ops (count) | field > 3×3 | β entropy start → end | trainB loss: start → found (α only, β only) | expectation held | s |',
    '| --- | ---: | --- | ---: | --- | ---: | --- | --- | --- | ---: |',
    ...rows.map((r) => {
      const mix = Object.entries(r.opMix).sort((a, b) => b[1] - a[1]).map(([op, n]) => `${op} ${n}`).join(', ');
      const [first, last] = [r.entropy[0], r.entropy[r.entropy.length - 1]];
      const loss = r.trainBLoss;
      return `| ${r.task} | ${r.seed} | ${r.path.join(' ')} | ${r.meanLevel.toFixed(2)} | ${mix} | ${(100 * r.largeFieldShare).toFixed(0)}% | ${first.beta.toFixed(3)} → ${last.beta.toFixed(3)} | ${loss.start.toFixed(3)} → ${loss.found.toFixed(3)} (${loss.alphaOnly.toFixed(3)}, ${loss.betaOnly.toFixed(3)}) | ${r.expectationHeld ? 'yes' : 'no'} | ${r.seconds.toFixed(0)} |`;
    }),
  ];
  return `${lines.join('\n')}\n`;
}
