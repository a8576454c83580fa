import { loadTrainedNet } from '@adl/search';
import { FixedNet } from '@adl/trellis';
import type { Command } from 'commander';
import { CliError, loadArchitecture } from './summary.js';

/** Where a command's network comes from: a retraining checkpoint, or a preset / architecture file with initial weights. */
export interface NetSource {
  readonly checkpoint?: string;
  readonly preset?: string;
  readonly arch?: string;
  /** Output classes of a preset or architecture (a checkpoint has its own). */
  readonly numClasses: number;
}

/** The network of `source` and a name for messages; the caller disposes it. */
export async function loadNet(source: NetSource): Promise<{ net: FixedNet; name: string }> {
  if ([source.checkpoint, source.preset, source.arch].filter(Boolean).length !== 1) throw new CliError('give one of --checkpoint, --preset and --arch');
  if (source.checkpoint) return { net: (await loadTrainedNet(source.checkpoint)).net, name: source.checkpoint };
  const architecture = await loadArchitecture(source);
  return { net: new FixedNet({ architecture, numClasses: source.numClasses }), name: architecture.name ?? source.arch ?? 'architecture' };
}

/** The flags of `NetSource` and of an input size, as `bench` and `export` take them. */
export function netSourceOptions(command: Command, integer: (value: string) => number): Command {
  return command
    .option('--checkpoint <dir>', 'a retrained net (its weights, ASPP width, rates and classes)')
    .option('--preset <name>', 'autodeeplab-s, autodeeplab-m or autodeeplab-l, with initial weights')
    .option('--arch <file>', 'architecture JSON, with initial weights')
    .option('--classes <count>', 'output classes (with --preset or --arch)', integer, 19)
    .option('--height <pixels>', 'input height', integer, 1024)
    .option('--width <pixels>', 'input width', integer, 2048);
}
