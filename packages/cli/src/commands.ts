import { readFile } from 'node:fs/promises';
import { decodeArchitecture } from '@adl/decode';
import { PRIMITIVES } from '@adl/ops';
import { writeFileAtomic } from '@adl/data-cityscapes';
import { EXIT_INTERRUPTED, formatPlan, parseRetrainConfig, parseSearchConfig, planRetrain, planSearch, readAlphaBeta, retrain, search, type RunOptions, type RunPlan } from '@adl/search';
import { parseArchitecture, type Architecture } from '@adl/trellis';
import { CliError } from './summary.js';

/** Parses a JSON file; errors name the file. */
export async function readJson(file: string): Promise<unknown> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new CliError(`${file}: cannot read (${error.code})`);
  });
  try {
    // A byte-order mark (editors on Windows save one) is not part of the JSON.
    return JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new CliError(`${file}: not valid JSON (${(error as Error).message})`);
  }
}

/** `--plan`: the plan's lines on stderr, the plan as one JSON line on stdout. */
function printPlan(plan: RunPlan): void {
  for (const line of formatPlan(plan)) process.stderr.write(`${line}\n`);
  process.stdout.write(`${JSON.stringify(plan)}\n`);
}

/** What `search` and `retrain` take from their flags: how to run, and settings that replace the config file's. */
export interface RunFlags extends RunOptions {
  readonly planSteps?: number;
  readonly overrides?: { readonly seed?: number; readonly outDir?: string };
}

/** A config file's object (when given) with the flags that were given over it. */
export async function configWithFlags(configFile: string | undefined, flags: Readonly<Record<string, unknown>>): Promise<Record<string, unknown>> {
  const fromFile = configFile ? await readJson(configFile) : {};
  if (typeof fromFile !== 'object' || fromFile === null || Array.isArray(fromFile)) throw new CliError(`${configFile}: expected a JSON object`);
  const defined = Object.fromEntries(Object.entries(flags).filter(([, value]) => value !== undefined));
  return { ...fromFile, ...defined };
}

/** `search` and `retrain`'s config: the file with `--seed` and `--out` over it, and where it came from (for errors). */
async function runConfig(configFile: string, overrides: RunFlags['overrides'] = {}): Promise<[Record<string, unknown>, string]> {
  const flags = Object.keys(overrides).map((key) => (key === 'outDir' ? '--out' : `--${key}`));
  return [await configWithFlags(configFile, overrides), flags.length ? `${configFile} (with ${flags.join(', ')})` : configFile];
}

/** `adl search --config file.json [--seed n] [--out dir] [--resume [--accept-changes]] [--force] [--plan [steps]]`. */
export async function runSearch(configFile: string, options: RunFlags): Promise<void> {
  const config = parseSearchConfig(...(await runConfig(configFile, options.overrides)));
  if (options.planSteps !== undefined) return printPlan(await planSearch(config, { steps: options.planSteps, since: 0 }));
  const result = await search(config, options);
  if (result.stoppedBy) process.exitCode = EXIT_INTERRUPTED;
  else if (result.architecture) process.stdout.write(`${JSON.stringify(result.architecture)}\n`);
}

/** `adl retrain --config file.json [--seed n] [--out dir] [--resume [--accept-changes]] [--force] [--plan [steps]]`. */
export async function runRetrain(configFile: string, options: RunFlags): Promise<void> {
  const config = parseRetrainConfig(...(await runConfig(configFile, options.overrides)));
  if (options.planSteps !== undefined) return printPlan(await planRetrain(config, { steps: options.planSteps, since: 0 }));
  const result = await retrain(config, options);
  if (result.stoppedBy) {
    process.exitCode = EXIT_INTERRUPTED;
    return;
  }
  process.stdout.write(`${JSON.stringify({ iterations: result.iterations, best: result.best ?? null })}\n`);
}

/** `adl decode --from <checkpoint dir | α/β JSON> [--out file] [--filter-multiplier F]`. */
export async function runDecode(from: string, { out, filterMultiplier, blocks }: { out?: string; filterMultiplier: number; blocks: number }): Promise<Architecture> {
  const { alpha, beta } = await readAlphaBeta(from).catch((error: Error) => {
    throw new CliError(error.message.startsWith(from) ? error.message : `${from}: ${error.message}`);
  });
  let decoded: ReturnType<typeof decodeArchitecture>;
  try {
    decoded = decodeArchitecture(alpha, beta, { blocks, ops: PRIMITIVES });
  } catch (error) {
    throw new CliError(`${from}: ${(error as Error).message}`);
  }
  const architecture = parseArchitecture({ name: 'decoded', path: decoded.path, genotype: decoded.genotype, filterMultiplier }, from);
  const text = `${JSON.stringify(architecture, null, 2)}\n`;
  if (out) await writeFileAtomic(out, text);
  else process.stdout.write(text);
  return architecture;
}
