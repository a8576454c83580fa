import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeRunReport } from './run-report.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'adl-run-report-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

const architecture = { name: 'tiny', path: [0, 1], genotype: [[0, 'sep_conv_3x3'], [1, 'skip_connect']], filterMultiplier: 4 };
const record = (iteration: number) => JSON.stringify({ iteration, learningRate: 0.01, trainLoss: 1, valMiou: 0.5, valPixelAccuracy: 0.8, valIou: [0.5] });

describe('the run report', () => {
  it('of a run killed while writing its log: skips the torn last line with a warning naming it; a bad line before the last is an error', async () => {
    const run = join(root, 'killed');
    await mkdir(join(run, 'retrain'), { recursive: true });
    await writeFile(join(run, 'architecture.json'), JSON.stringify(architecture));
    const log = join(run, 'retrain', 'retrain-log.jsonl');
    await writeFile(log, `${record(2)}\n${record(4)}\n{"iteration": 6, "learn`);
    const warnings: string[] = [];
    await expect(writeRunReport(run, { warn: (line) => warnings.push(line) })).resolves.toBe(join(run, 'report.html'));
    expect(warnings).toEqual([`[adl] warning: ${log}:3: skipped a torn last line (23 characters; a run killed while writing it)`]);
    await writeFile(log, `${record(2)}\n{"iteration": 4, "learn\n${record(6)}\n`);
    await expect(writeRunReport(run, { warn: () => undefined })).rejects.toThrow(`${log}:2: not valid JSON`);
  });

  it('of a folder that does not exist says so', async () => {
    const missing = join(root, 'no-such-run');
    await expect(writeRunReport(missing)).rejects.toThrow(`${missing}: not found (expected a run folder with architecture.json, search/, retrain/ and eval/)`);
  });
});
