// Prints the mutation score of every package from its last `stryker run` (reports/mutation/mutation.json):
// killed / survived / timeout / no coverage / equivalent (a survivor listed in equivalent.json, with
// the reason it cannot change what the code computes) / ignored (error and log text; module-level code
// that only runs at import, see stryker.base.mjs), then each survivor and
// each equivalent mutant. A survivor whose run completed no test is counted apart ("not run"): the
// vitest runner can report those as survived without having tested them (stryker-js #6213).
// `node mutation/summary.mjs --markdown` prints the tables as Markdown.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
/** `{ file, mutator, replacement, reason }` rows; a survivor that matches one is equivalent. */
const equivalentList = JSON.parse(readFileSync(new URL('./equivalent.json', import.meta.url), 'utf8'));
const equivalentReason = (file, mutant) =>
  equivalentList.find((e) => e.file === file && e.mutator === mutant.mutatorName && e.replacement === mutant.replacement)?.reason;
const markdown = process.argv.includes('--markdown');
const rows = [];
const survivors = [];
const equivalents = [];
for (const dir of readdirSync(join(root, 'packages'))) {
  const report = join(root, 'packages', dir, 'reports/mutation/mutation.json');
  if (!existsSync(report)) continue;
  const { files } = JSON.parse(readFileSync(report, 'utf8'));
  const count = { killed: 0, survived: 0, timeout: 0, noCoverage: 0, notRun: 0, equivalent: 0, ignored: 0 };
  for (const [file, { mutants, source }] of Object.entries(files)) {
    const lines = source.split('\n');
    for (const mutant of mutants) {
      const where = `${dir}/${file}:${mutant.location.start.line}`;
      const code = lines[mutant.location.start.line - 1].trim();
      if (mutant.status === 'Killed') count.killed++;
      else if (mutant.status === 'Timeout') count.timeout++;
      else if (mutant.status === 'NoCoverage') (count.noCoverage++, survivors.push(`${where} ${mutant.mutatorName} (no test reaches it): ${code}`));
      else if (mutant.status === 'Survived' && equivalentReason(`packages/${dir}/${file}`, mutant)) (count.equivalent++, equivalents.push(`${where} ${mutant.mutatorName} → ${mutant.replacement}: ${equivalentReason(`packages/${dir}/${file}`, mutant)}`));
      else if (mutant.status === 'Survived' && mutant.testsCompleted === 0) (count.notRun++, survivors.push(`${where} ${mutant.mutatorName} (not run: no test completed) → ${mutant.replacement}: ${code}`));
      else if (mutant.status === 'Survived') (count.survived++, survivors.push(`${where} ${mutant.mutatorName} → ${mutant.replacement}: ${code}`));
      else if (mutant.status === 'Ignored') count.ignored++;
    }
  }
  const detected = count.killed + count.timeout;
  const score = (100 * detected) / Math.max(detected + count.survived + count.noCoverage + count.notRun, 1);
  rows.push({ package: `@adl/${dir}`, ...count, score: score.toFixed(1) });
}
const headers = ['package', 'killed', 'survived', 'timeout', 'noCoverage', 'notRun', 'equivalent', 'ignored', 'score'];
if (markdown) {
  console.log(`| ${headers.join(' | ')} |\n|${headers.map(() => ' --- ').join('|')}|`);
  for (const row of rows) console.log(`| ${headers.map((h) => row[h]).join(' | ')} |`);
} else {
  console.table(rows);
}
console.log(`\nSurvivors (${survivors.length}):\n${survivors.map((s) => `  ${s}`).join('\n')}`);
console.log(`\nEquivalent (${equivalents.length}):\n${equivalents.map((s) => `  ${s}`).join('\n')}`);
