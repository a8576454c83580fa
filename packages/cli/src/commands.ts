import { readFile } from 'node:fs/promises';
import { decodeArchitecture } from '@adl/decode';
import { PRIMITIVES } from '@adl/ops';
import { writeFileAtomic } from '@adl/data-cityscapes';
import { parseRetrainConfig, parseSearchConfig, readAlphaBeta, retrain, search, type RunOptions } from '@adl/search';
import { parseArchitecture, type Architecture } from '@adl/trellis';
import { CliError } from './summary.js';

/** Parses a JSON file; errors name the file. */
export async function readJson(file: string): Promise<unknown> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new CliError(`${file}: cannot read (${error.code})`);
  });
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliError(`${file}: not valid JSON (${(error as Error).message})`);
  }
}

/** `adl search --config file.json [--resume [--accept-changes]] [--force]`. */
export async function runSearch(configFile: string, options: RunOptions): Promise<void> {
  const config = parseSearchConfig(await readJson(configFile), configFile);
  const result = await search(config, options);
  if (result.architecture) process.stdout.write(`${JSON.stringify(result.architecture)}\n`);
}

/** `adl retrain --config file.json [--resume [--accept-changes]] [--force]`. */
export async function runRetrain(configFile: string, options: RunOptions): Promise<void> {
  const config = parseRetrainConfig(await readJson(configFile), configFile);
  const result = await retrain(config, options);
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
