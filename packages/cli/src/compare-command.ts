import { join } from 'node:path';
import { silenceCpuBanner } from '@adl/backend';
import { readCheckpointManifest, type EpochRecord, type EvaluationRecord } from '@adl/search';
import { FixedNet, parseArchitecture, type Architecture } from '@adl/trellis';
import * as tf from '@tensorflow/tfjs';
import { CliError } from './summary.js';

/** One run of a sweep, as `adl compare` reads it from its checkpoint. */
export interface ComparedRun {
  readonly run: string;
  readonly kind: 'search' | 'retrain';
  readonly seed: number | null;
  /** The best validation mIoU recorded (null where none was measured) and its iteration (retraining) or epoch (search). */
  readonly bestMiou: number | null;
  readonly bestAt: number | null;
  /** The network's path: retrained, or decoded at the search's last epoch. */
  readonly path: number[];
  /** Multiply-adds of that network for one 1024×2048 image (the retrained net, F of the architecture). */
  readonly multAdds: number;
  /** How far it got: iterations of a retraining, epochs of a search. */
  readonly done: number;
  readonly total: number | null;
  /** Wall time of the run so far (absent in checkpoints written before it was recorded). */
  readonly seconds: number | null;
}

interface LoopManifestMeta {
  readonly config: { readonly seed?: number; readonly iterations?: number; readonly epochs?: number; readonly retrainFilterMultiplier?: number };
  readonly step: number;
  readonly seconds?: number;
  readonly state: { readonly records: (EpochRecord | EvaluationRecord)[] };
  readonly net?: { readonly architecture: Architecture; readonly asppChannels?: number; readonly asppRates?: readonly [number, number, number] };
}

function multAddsOf(architecture: Architecture, aspp: Pick<NonNullable<LoopManifestMeta['net']>, 'asppChannels' | 'asppRates'> = {}): number {
  const net = new FixedNet({ architecture, numClasses: 19, asppChannels: aspp.asppChannels, asppRates: aspp.asppRates ? [...aspp.asppRates] : undefined });
  try {
    return net.cost([1024, 2048]).multAdds;
  } finally {
    net.dispose();
  }
}

/** Reads one run folder (the `outDir` of `adl search` or `adl retrain`). */
async function readRun(dir: string): Promise<ComparedRun> {
  const manifest = await readCheckpointManifest<LoopManifestMeta>(dir);
  if (!manifest?.meta?.state) throw new CliError(`${join(dir, 'checkpoint.json')}: no checkpoint of a search or retraining here`);
  const { meta } = manifest;
  const records = meta.state.records;
  const measured = records.filter((r) => r.valMiou !== null && Number.isFinite(r.valMiou));
  const best = measured.reduce<(typeof measured)[number] | undefined>((top, r) => (top === undefined || r.valMiou! > top.valMiou! ? r : top), undefined);
  const where = (r: EpochRecord | EvaluationRecord) => ('iteration' in r ? r.iteration : r.epoch);
  let architecture: Architecture;
  let kind: ComparedRun['kind'];
  if (meta.net) {
    kind = 'retrain';
    architecture = parseArchitecture(meta.net.architecture);
  } else {
    kind = 'search';
    const last = records.at(-1) as EpochRecord | undefined;
    if (!last) throw new CliError(`${dir}: the search has not finished an epoch yet: no architecture to compare`);
    architecture = parseArchitecture({ name: 'searched', path: last.path, genotype: last.genotype, filterMultiplier: meta.config.retrainFilterMultiplier ?? 20 });
  }
  return {
    run: dir,
    kind,
    seed: meta.config.seed ?? null,
    bestMiou: best?.valMiou ?? null,
    bestAt: best ? where(best) : null,
    path: [...architecture.path],
    multAdds: multAddsOf(architecture, meta.net),
    done: kind === 'retrain' ? meta.step : records.length,
    total: (kind === 'retrain' ? meta.config.iterations : meta.config.epochs) ?? null,
    seconds: meta.seconds ?? null,
  };
}

/** `adl compare RUN…`: the runs of a sweep side by side, best validation mIoU first. */
export async function compareRuns(dirs: readonly string[]): Promise<ComparedRun[]> {
  if (dirs.length === 0) throw new CliError('no run folders to compare');
  await tf.setBackend('cpu');
  silenceCpuBanner();
  const runs = [];
  for (const dir of dirs) runs.push(await readRun(dir));
  return runs.sort((a, b) => (b.bestMiou ?? -1) - (a.bestMiou ?? -1));
}

/** The leaderboard as a markdown table. */
export function formatComparison(runs: readonly ComparedRun[]): string {
  const lines = [
    '| run | kind | seed | best val mIoU % | at | path | multiply-adds (1024×2048) | done | time |',
    '| --- | --- | ---: | ---: | ---: | --- | ---: | --- | ---: |',
    ...runs.map((r) =>
      `| ${r.run} | ${r.kind} | ${r.seed ?? '—'} | ${r.bestMiou === null ? '—' : (100 * r.bestMiou).toFixed(1)} | ${r.bestAt ?? '—'} | ${r.path.join(' ')} | ${(r.multAdds / 1e9).toFixed(2)} B | ${r.done}/${r.total ?? '?'} ${r.kind === 'retrain' ? 'iterations' : 'epochs'} | ${r.seconds === null ? '—' : `${r.seconds.toFixed(0)} s`} |`),
  ];
  return lines.join('\n');
}
