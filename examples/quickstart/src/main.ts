// Quickstart: the whole Auto-DeepLab pipeline on a synthetic Cityscapes-format set, on the CPU:
// generate → search → decode → retrain → evaluate, then runs/quickstart/report.html.
// QUICKSTART_SIZE=tiny runs the same steps at toy sizes (seconds); ADL_OUT moves the output folder.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runQuickstart } from './run-quickstart.js';
import { QUICKSTART_SETTINGS } from './settings.js';

const size = process.env.QUICKSTART_SIZE ?? 'full';
if (size !== 'full' && size !== 'tiny') throw new Error(`QUICKSTART_SIZE must be full or tiny, got ${size}`);
const outDir = process.env.ADL_OUT ?? join(process.cwd(), 'runs', 'quickstart');
const result = await runQuickstart(QUICKSTART_SETTINGS[size], outDir);
const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
console.log(`\nPer-class IoU on the validation images (${join(result.outDir, 'eval', 'iou.md')}):\n`);
console.log(await readFile(join(result.outDir, 'eval', 'iou.md'), 'utf8'));
console.log(`\nDone in ${result.seconds.total.toFixed(0)} s. Validation mIoU ${pct(result.miou)} (chance ${pct(result.chanceMiou)}); path [${result.path.join(', ')}].`);
console.log(`Open ${result.report}`);
