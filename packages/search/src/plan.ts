import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveCheckpoint, type VariableGroups } from './checkpoint.js';

/** One kind of step in a run: how many the run takes and how long one took when timed. */
export interface PlanPhase {
  readonly name: string;
  /** Steps of this kind in the whole run. */
  readonly steps: number;
  /** Median of the timed steps. */
  readonly secondsPerStep: number;
  readonly timedSteps: number;
}

/** What `planSearch` and `planRetrain` measured and what they estimate for the whole run. */
export interface RunPlan {
  readonly what: 'search' | 'retrain';
  readonly backend: string;
  /** Backend selection, network and data set-up, as the run does them. */
  readonly setupSeconds: number;
  readonly phases: readonly PlanPhase[];
  /** Validation passes in the run, and the time of one. */
  readonly evaluations: { readonly count: number; readonly secondsEach: number };
  /** Checkpoints the run writes (retraining: `best/` counted at every validation), and the time of one, written to the temporary folder. */
  readonly checkpoints: { readonly count: number; readonly secondsEach: number };
  /** Set-up, every step, every validation pass and every checkpoint. */
  readonly totalSeconds: number;
  readonly stepsPerEpoch: number;
  /** The process's peak resident memory after the timed steps. */
  readonly maxRssBytes: number;
}

export interface PlanOptions {
  /** Steps timed per kind of step, after one untimed step (first-call allocations and caches). */
  readonly steps?: number;
  /** When the run's set-up starts, on `performance.now()`'s clock (the command line: 0, the process's start); by default when the plan is called. */
  readonly since?: number;
  readonly log?: (line: string) => void;
}

/** Seconds each call of `run` takes, for `count` calls. */
export async function timeEach(count: number, run: (index: number) => Promise<unknown>): Promise<number[]> {
  const seconds: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await run(i);
    seconds.push((performance.now() - started) / 1000);
  }
  return seconds;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The plan from its measured parts: the total adds set-up, every step, validation pass and checkpoint; the peak memory is the process's so far. */
export function makePlan(parts: Omit<RunPlan, 'totalSeconds' | 'maxRssBytes'>): RunPlan {
  const { setupSeconds, phases, evaluations, checkpoints } = parts;
  const totalSeconds = setupSeconds + phases.reduce((sum, p) => sum + p.steps * p.secondsPerStep, 0) + evaluations.count * evaluations.secondsEach + checkpoints.count * checkpoints.secondsEach;
  return { ...parts, totalSeconds, maxRssBytes: process.resourceUsage().maxRSS * 1024 };
}

/** Checkpoints the training loop writes: before the first step, after every `every`-th, every evaluated one, and the last. */
export function checkpointCount(totalSteps: number, every: number, evaluated: (step: number) => boolean): number {
  let count = 1;
  for (let step = 1; step <= totalSteps; step++) if (step % every === 0 || step === totalSteps || evaluated(step)) count++;
  return count;
}

/** Seconds to write one checkpoint of `groups` (into a temporary folder, removed after). */
export async function timeCheckpoint(groups: VariableGroups): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'adl-plan-'));
  try {
    const [seconds] = await timeEach(1, () => saveCheckpoint(dir, groups, { plan: true }, 'plan'));
    return seconds;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** "3 d 4 h", "2 h 05 min", "4 min 10 s", "12.3 s". */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const [d, h, m, s] = [Math.floor(seconds / 86400), Math.floor(seconds / 3600) % 24, Math.floor(seconds / 60) % 60, Math.round(seconds % 60)];
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${String(m).padStart(2, '0')} min`;
  return `${m} min ${String(s).padStart(2, '0')} s`;
}

/** The plan as the lines `adl search --plan` prints. */
export function formatPlan(plan: RunPlan): string[] {
  const gib = (plan.maxRssBytes / 2 ** 30).toFixed(2);
  return [
    `plan: ${plan.what} on ${plan.backend}; set-up ${formatDuration(plan.setupSeconds)}; ${plan.stepsPerEpoch} steps per epoch`,
    ...plan.phases.map((p) => `  ${p.name}: ${p.secondsPerStep.toFixed(2)} s per step (median of ${p.timedSteps}) × ${p.steps} = ${formatDuration(p.steps * p.secondsPerStep)}`),
    ...(plan.evaluations.count ? [`  validation: ${plan.evaluations.secondsEach.toFixed(2)} s × ${plan.evaluations.count} = ${formatDuration(plan.evaluations.count * plan.evaluations.secondsEach)}`] : []),
    `  checkpoints: ${plan.checkpoints.secondsEach.toFixed(2)} s × ${plan.checkpoints.count} = ${formatDuration(plan.checkpoints.count * plan.checkpoints.secondsEach)}`,
    `  total: ${formatDuration(plan.totalSeconds)}; peak memory ${gib} GiB resident`,
  ];
}
