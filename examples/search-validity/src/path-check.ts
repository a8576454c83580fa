// Is each task's answer clear-cut, and which is it? One cell on the fine path and on the coarse one
// (equal multiply-adds within a few per cent: a cell's cost hardly depends on its level), each
// retrained with the random baseline's budget from several seeds. Writes path-check-<size>.json and
// .md into runs/search-validity (ADL_OUT moves it). SIZE (64), SEEDS (3), ITERATIONS (200) and TASKS
// (detail,context) change the run.
import { join } from 'node:path';
import { generateKnownAnswerTask, writeFileAtomic, type KnownAnswerTask } from '@adl/data-cityscapes';
import { parseArchitecture } from '@adl/trellis';
import { BASELINE_SETTINGS, multAddsOf, retrainedMiou } from './random-baseline.js';

/** A cell with each kind of op (3×3 and 5×5, separable and atrous, skip), so that neither path is favoured by its ops. */
const CELL: [number, string][] = [
  [0, 'sep_conv_3x3'], [1, 'sep_conv_5x5'], [1, 'atrous_conv_3x3'], [2, 'sep_conv_3x3'], [2, 'atrous_conv_5x5'],
  [0, 'sep_conv_5x5'], [3, 'sep_conv_3x3'], [1, 'skip_connect'], [4, 'atrous_conv_3x3'], [3, 'sep_conv_5x5'],
];
const PATHS = { fine: [0, 0, 0, 0], coarse: [1, 2, 3, 3] };
/** The path each task was built to favour (`generateKnownAnswerTask`); what it favours is measured here. */
const BUILT_FOR: Partial<Record<KnownAnswerTask, keyof typeof PATHS>> = { detail: 'fine', context: 'coarse' };
/** A whole number from the environment, or `fallback` where unset. */
function wholeNumber(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a whole number from 1, got ${process.env[name]}`);
  return value;
}
const seeds = Array.from({ length: wholeNumber('SEEDS', 3) }, (_, i) => i);
const tasks = (process.env.TASKS?.split(',') ?? Object.keys(BUILT_FOR)) as KnownAnswerTask[];
const size = wholeNumber('SIZE', BASELINE_SETTINGS.images.size);
const settings = { ...BASELINE_SETTINGS, images: { ...BASELINE_SETTINGS.images, size }, iterations: wholeNumber('ITERATIONS', BASELINE_SETTINGS.iterations) };
const outDir = process.env.ADL_OUT ?? join(process.cwd(), 'runs', 'search-validity');
const started = performance.now();
const rows = [];
for (const task of tasks) {
  const dataDir = join(outDir, 'baseline-data', `${task}-${size}`);
  await generateKnownAnswerTask({ task, dir: dataDir, count: { train: settings.images.train, val: settings.images.val }, size: settings.images.size, seed: 1 });
  const measured = {} as Record<keyof typeof PATHS, { path: number[]; multAdds: number; miou: number[] }>;
  for (const [name, path] of Object.entries(PATHS) as [keyof typeof PATHS, number[]][]) {
    const architecture = parseArchitecture({ name, path, genotype: CELL, filterMultiplier: settings.filterMultiplier });
    const miou = [];
    for (const seed of seeds) miou.push(await retrainedMiou(architecture, settings, dataDir, join(outDir, `path-check-${task}-${size}`, `${name}-seed${seed}`), seed));
    measured[name] = { path, multAdds: multAddsOf(architecture, settings.images.size), miou };
    console.log(`${task} ${name} [${path.join(', ')}]: ${miou.map((m) => (100 * m).toFixed(1)).join(', ')}`);
  }
  rows.push({ task, builtFor: BUILT_FOR[task] ?? 'any', ...measured });
}
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const pct = (v: number) => (100 * v).toFixed(1);
const table = [
  '| task | built for | fine [0 0 0 0]: mIoU % per seed | mean | coarse [1 2 3 3]: mIoU % per seed | mean | better path |',
  '| --- | --- | --- | ---: | --- | ---: | --- |',
  ...rows.map((r) => {
    const [fine, coarse] = [mean(r.fine.miou), mean(r.coarse.miou)];
    return `| ${r.task} | ${r.builtFor} | ${r.fine.miou.map(pct).join(', ')} | ${pct(fine)} | ${r.coarse.miou.map(pct).join(', ')} | ${pct(coarse)} | ${fine > coarse ? 'fine' : 'coarse'} |`;
  }),
].join('\n');
const seconds = (performance.now() - started) / 1000;
await writeFileAtomic(join(outDir, `path-check-${size}.json`), `${JSON.stringify({ settings, cell: CELL, seconds, rows }, null, 2)}\n`);
await writeFileAtomic(join(outDir, `path-check-${size}.md`), `${table}\n`);
console.log(`\n${table}\n\nDone in ${seconds.toFixed(0)} s.`);
