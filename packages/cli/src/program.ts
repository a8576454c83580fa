import { Command, InvalidArgumentError } from 'commander';
import { formatSummary, summarize } from './summary.js';

function integer(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('expected a positive integer');
  return parsed;
}

/** The `adl` command line. */
export function createProgram(): Command {
  const program = new Command('adl').description('Auto-DeepLab: hierarchical architecture search for segmentation');
  program
    .command('summary')
    .description('parameters and multiply-adds of a retrain network (preset or architecture JSON)')
    .option('--preset <name>', 'autodeeplab-s, autodeeplab-m or autodeeplab-l')
    .option('--arch <file>', 'architecture JSON written by search + decode')
    .option('--height <pixels>', 'input height', integer, 1024)
    .option('--width <pixels>', 'input width', integer, 2048)
    .option('--classes <count>', 'output classes', integer, 19)
    .option('--json', 'print one JSON line {"params", "multAdds"}')
    .action(async (options) => {
      const summary = await summarize({ ...options, numClasses: options.classes });
      if (options.json) process.stdout.write(`${JSON.stringify({ params: summary.params, multAdds: summary.multAdds })}\n`);
      else process.stdout.write(`${formatSummary(summary)}\n`);
    });
  return program;
}
