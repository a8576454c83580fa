import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PRIMITIVES } from '@adl/ops';
import type { IouRow } from '../iou-table.js';
import { writeReport, type Deployment, type ReportData } from './render-report.js';

/**
 * Where a run keeps its parts, as the quickstart lays them out: `search/`, `retrain/` and `eval/` are
 * the output folders of `adl search`, `adl retrain` and `adl eval --out`; `architecture.json` the
 * decoded architecture (else the search's or the retraining's); `summary.json` may hold
 * `report: { title, facts }` for the first table of the report.
 */
export const RUN_FOLDERS = { search: 'search', retrain: 'retrain', eval: 'eval' } as const;

export class RunReportError extends Error {
  override name = 'RunReportError';
}

interface SummaryFile {
  readonly report?: { readonly title?: string; readonly facts?: readonly (readonly [string, string])[] };
  /** The exported model beside the summary (its path relative to the run folder). */
  readonly deployment?: Deployment;
}

type Snapshot = ReportData['alphaBetaHistory'][number] & { readonly ops?: readonly string[] };

async function readText(file: string): Promise<string | undefined> {
  return readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new RunReportError(`${file}: cannot read (${error.code})`);
  });
}

function parseJson<T>(text: string, file: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new RunReportError(`${file}: not valid JSON (${(error as Error).message})`);
  }
}

async function readJson<T>(file: string): Promise<T | undefined> {
  const text = await readText(file);
  return text === undefined ? undefined : parseJson<T>(text, file);
}

/**
 * The records of a JSON-lines log. A last line that does not parse is what a writer killed mid-line
 * leaves: it is skipped with a warning, so a killed run still has a report; a bad line before it is an error.
 */
async function readJsonLines<T>(file: string, warn: (line: string) => void): Promise<T[]> {
  const text = await readText(file);
  if (text === undefined) return [];
  const lines = text.split('\n');
  let last = lines.length - 1;
  while (last >= 0 && lines[last].trim() === '') last--;
  const records: T[] = [];
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;
    try {
      records.push(parseJson<T>(line, `${file}:${index + 1}`));
    } catch (error) {
      if (index !== last) throw error;
      warn(`[adl] warning: ${file}:${index + 1}: skipped a torn last line (${line.length} characters; a run killed while writing it)`);
    }
  }
  return records;
}

async function readSnapshots(dir: string): Promise<Snapshot[]> {
  const files = await readdir(dir).catch(() => [] as string[]);
  return Promise.all(files.filter((f) => f.endsWith('.json')).sort().map(async (f) => (await readJson<Snapshot>(join(dir, f)))!));
}

/**
 * Writes `runDir/report.html` from what the run left in its folders (see `RUN_FOLDERS`): the decoded
 * path and cell, α and β over the search, the loss and mIoU curves, the per-class IoU of the
 * evaluation and its prediction images. Parts that are missing are left out; an architecture is
 * required. Returns the report's path.
 */
export async function writeRunReport(runDir: string, { warn = (line: string) => process.stderr.write(`${line}\n`) }: { warn?: (line: string) => void } = {}): Promise<string> {
  const searchDir = join(runDir, RUN_FOLDERS.search);
  const retrainDir = join(runDir, RUN_FOLDERS.retrain);
  const evalDir = join(runDir, RUN_FOLDERS.eval);
  if (!(await stat(runDir).catch(() => undefined))?.isDirectory()) throw new RunReportError(`${runDir}: not found (expected a run folder with architecture.json, search/, retrain/ and eval/)`);
  const candidates = [join(runDir, 'architecture.json'), join(searchDir, 'architecture.json'), join(retrainDir, 'architecture.json')];
  let architecture: ReportData['architecture'] | undefined;
  for (const file of candidates) architecture ??= await readJson<ReportData['architecture']>(file);
  if (!architecture) throw new RunReportError(`${runDir}: no architecture.json here, nor in ${RUN_FOLDERS.search}/ or ${RUN_FOLDERS.retrain}/`);
  const alphaBetaHistory = await readSnapshots(join(searchDir, 'alpha-beta'));
  const metrics = await readJson<{ miou: number | null; pixelAccuracy: number | null; classes: IouRow[]; files?: { name: string; overlay: string; compare: string }[] }>(join(evalDir, 'metrics.json'));
  const summary = await readJson<SummaryFile>(join(runDir, 'summary.json'));
  const data: ReportData = {
    title: summary?.report?.title ?? 'Auto-DeepLab: search → decode → retrain → evaluate',
    facts: summary?.report?.facts ?? [],
    architecture,
    layers: alphaBetaHistory[0]?.beta.length ?? architecture.path.length,
    ops: alphaBetaHistory[0]?.ops ?? PRIMITIVES,
    alphaBetaHistory,
    searchLog: await readJsonLines(join(searchDir, 'search-log.jsonl'), warn),
    retrainLog: await readJsonLines(join(retrainDir, 'retrain-log.jsonl'), warn),
    metrics: metrics && { miou: metrics.miou, pixelAccuracy: metrics.pixelAccuracy, classes: metrics.classes },
    predictions: (metrics?.files ?? []).map((f) => ({ name: f.name, overlay: `${RUN_FOLDERS.eval}/${f.overlay}`, compare: `${RUN_FOLDERS.eval}/${f.compare}` })),
    deployment: summary?.deployment,
  };
  const file = join(runDir, 'report.html');
  await writeReport(file, data);
  return file;
}
