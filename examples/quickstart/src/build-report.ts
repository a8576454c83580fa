import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { iouTableJson, writeReport, type EvaluationReport, type ReportData } from '@adl/eval';
import { PRIMITIVES } from '@adl/ops';
import type { EpochRecord, EvaluationRecord } from '@adl/search';
import type { Architecture } from '@adl/trellis';
import { TRAIN_CLASS_NAMES } from '@adl/data-cityscapes';

export interface ReportInputs {
  readonly outDir: string;
  readonly searchDir: string;
  readonly evalDir: string;
  readonly layers: number;
  readonly architecture: Architecture;
  readonly searchLog: readonly EpochRecord[];
  readonly retrainLog: readonly EvaluationRecord[];
  readonly evaluation: EvaluationReport;
  readonly facts: readonly (readonly [string, string])[];
}

/** Collects the α/β snapshots of every epoch and writes `outDir/report.html`. */
export async function buildReport(inputs: ReportInputs): Promise<string> {
  const snapshotDir = join(inputs.searchDir, 'alpha-beta');
  const snapshots = (await readdir(snapshotDir)).filter((f) => f.endsWith('.json')).sort();
  const alphaBetaHistory = await Promise.all(snapshots.map(async (f) => JSON.parse(await readFile(join(snapshotDir, f), 'utf8')) as ReportData['alphaBetaHistory'][number]));
  const toReport = (path: string) => relative(inputs.outDir, join(inputs.evalDir, path));
  const data: ReportData = {
    title: 'Auto-DeepLab quickstart: search → decode → retrain → evaluate',
    facts: inputs.facts,
    architecture: inputs.architecture,
    layers: inputs.layers,
    ops: PRIMITIVES,
    alphaBetaHistory,
    searchLog: inputs.searchLog,
    retrainLog: inputs.retrainLog,
    metrics: iouTableJson(inputs.evaluation.metrics, TRAIN_CLASS_NAMES),
    predictions: inputs.evaluation.files.map((f) => ({ name: f.name, overlay: toReport(f.overlay), compare: toReport(f.compare) })),
  };
  const file = join(inputs.outDir, 'report.html');
  await writeReport(file, data);
  return file;
}
