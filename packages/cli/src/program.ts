import { Command, InvalidArgumentError } from 'commander';
import { runDecode, runRetrain, runSearch } from './commands.js';
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
  program
    .command('search')
    .description('architecture search on a Cityscapes-layout folder (SPEC §5); writes the log, snapshots, checkpoints and architecture.json to outDir')
    .requiredOption('--config <file>', 'search config JSON (fields: see @adl/search SearchConfigSchema; dataRoot and outDir required)')
    .option('--resume', 'continue from outDir/checkpoint.json')
    .action(async (options) => runSearch(options.config, Boolean(options.resume)));
  program
    .command('decode')
    .description('architecture JSON from a search checkpoint folder or an α/β JSON file')
    .requiredOption('--from <path>', 'search outDir (checkpoint) or alpha-beta/epoch-NNN.json')
    .option('--out <file>', 'write here (atomically) instead of stdout')
    .option('--filter-multiplier <F>', 'F of the retrain network', integer, 20)
    .option('--blocks <B>', 'blocks per cell', integer, 5)
    .action(async (options) => {
      await runDecode(options.from, { out: options.out, filterMultiplier: options.filterMultiplier, blocks: options.blocks });
    });
  program
    .command('retrain')
    .description('train the fixed network of a preset or architecture JSON (SPEC §7), keeping the best checkpoint')
    .requiredOption('--config <file>', 'retrain config JSON (fields: see @adl/search RetrainConfigSchema)')
    .option('--resume', 'continue from outDir/checkpoint.json')
    .action(async (options) => runRetrain(options.config, Boolean(options.resume)));
  return program;
}
