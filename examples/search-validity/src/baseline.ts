// Searched against random at equal cost: for each task, the architecture the validity run found
// (runs/search-validity/<task>-seed0, so run `pnpm start` first) and random ones from the same space
// within ±10% of its multiply-adds, each retrained with the same budget on the task's images; the
// searched one's validation mIoU against the random ones' median and best. Writes baseline.json and
// baseline.md beside results.json.
import { join } from 'node:path';
import { KNOWN_ANSWER_TASKS, writeFileAtomic } from '@adl/data-cityscapes';
import { BASELINE_SETTINGS, randomBaseline, type BaselineRow } from './random-baseline.js';

const outDir = process.env.ADL_OUT ?? join(process.cwd(), 'runs', 'search-validity');
const started = performance.now();
const rows: BaselineRow[] = [];
for (const task of KNOWN_ANSWER_TASKS) {
  const row = await randomBaseline(task, join(outDir, `${task}-seed0`, 'architecture.json'), BASELINE_SETTINGS, outDir, 0);
  console.log(`${task}: searched ${row.searched.miou.toFixed(3)}, random median ${row.randomMedian.toFixed(3)}, best ${row.randomBest.toFixed(3)}`);
  rows.push(row);
}
const pct = (v: number) => (100 * v).toFixed(1);
const table = [
  '| task | searched path | searched mIoU % | random paths | random mIoU % (each) | median | best | searched ≥ median |',
  '| --- | --- | ---: | --- | --- | ---: | ---: | --- |',
  ...rows.map((r) => `| ${r.task} | ${r.searched.path.join(' ')} | ${pct(r.searched.miou)} | ${r.random.map((x) => x.path.join(' ')).join('; ')} | ${r.random.map((x) => pct(x.miou)).join(', ')} | ${pct(r.randomMedian)} | ${pct(r.randomBest)} | ${r.searched.miou >= r.randomMedian ? 'yes' : 'no'} |`),
].join('\n');
await writeFileAtomic(join(outDir, 'baseline.json'), `${JSON.stringify({ settings: BASELINE_SETTINGS, seconds: (performance.now() - started) / 1000, rows }, null, 2)}\n`);
await writeFileAtomic(join(outDir, 'baseline.md'), `${table}\n`);
console.log(`\n${table}\n\nDone in ${((performance.now() - started) / 1000).toFixed(0)} s.`);
