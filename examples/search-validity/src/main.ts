// Does the search search? Each known-answer task (@adl/data-cityscapes: detail, context, control) is
// searched with each seed; the decoded path and cell are checked against what the task needs.
// Writes runs/search-validity/results.json, results.md and a report.html per task and seed.
// QUICK=1: one seed of each task; CELLS=per-node searches with one cell per node (Eq. 6's other
// reading) into runs/search-validity-per-node; ARCH_LR sets α/β's Adam learning rate (into
// runs/search-validity-lr<value>). ADL_OUT moves the output folder.
import { join } from 'node:path';
import { KNOWN_ANSWER_TASKS, writeFileAtomic } from '@adl/data-cityscapes';
import { runValidity, validityTable, type ValidityRow } from './run-validity.js';
import { VALIDITY_SETTINGS } from './settings.js';

const cells = process.env.CELLS ?? 'per-edge';
if (cells !== 'per-edge' && cells !== 'per-node') throw new Error(`CELLS must be per-edge or per-node, got ${cells}`);
const base = VALIDITY_SETTINGS[process.env.QUICK === '1' ? 'quick' : 'full'];
const architectureLr = process.env.ARCH_LR === undefined ? base.search.architectureLr : Number(process.env.ARCH_LR);
if (!(architectureLr > 0)) throw new Error(`ARCH_LR must be a positive number, got ${process.env.ARCH_LR}`);
const settings = { ...base, search: { ...base.search, cells: cells as 'per-edge' | 'per-node', architectureLr } };
const folder = ['search-validity', cells === 'per-node' ? '-per-node' : '', process.env.ARCH_LR === undefined ? '' : `-lr${architectureLr}`].join('');
const outDir = process.env.ADL_OUT ?? join(process.cwd(), 'runs', folder);
const rows: ValidityRow[] = [];
const started = performance.now();
for (const task of KNOWN_ANSWER_TASKS) {
  for (const seed of settings.seeds) {
    console.log(`== ${task}, seed ${seed}`);
    const row = await runValidity(task, seed, settings, join(outDir, 'data', task), join(outDir, `${task}-seed${seed}`), () => undefined);
    console.log(`   path [${row.path.join(', ')}], mean level ${row.meanLevel.toFixed(2)}; expectation ${row.expectationHeld ? 'held' : 'did not hold'} (${row.expectation}); ${row.seconds.toFixed(0)} s`);
    rows.push(row);
  }
}
const table = validityTable(rows);
await writeFileAtomic(join(outDir, 'results.json'), `${JSON.stringify({ settings, seconds: (performance.now() - started) / 1000, rows }, null, 2)}\n`);
await writeFileAtomic(join(outDir, 'results.md'), table);
console.log(`\n${table}\nDone in ${((performance.now() - started) / 1000).toFixed(0)} s: ${join(outDir, 'results.json')}, a report.html in each run folder.`);
