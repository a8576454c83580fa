import { totalmem } from 'node:os';
import { silenceCpuBanner } from '@adl/backend';
import { addCosts } from '@adl/ops';
import * as tf from '@tensorflow/tfjs';
import { FixedNet, fixedNetParameterCount, getPreset, readArchitectureFile, type Architecture, type StageCost } from '@adl/trellis';

export interface SummaryOptions {
  /** A preset name (`autodeeplab-s|m|l`) … */
  readonly preset?: string;
  /** … or an architecture JSON file (the output of search + decode). */
  readonly arch?: string;
  readonly height: number;
  readonly width: number;
  readonly numClasses?: number;
}

export interface Summary {
  readonly name: string;
  readonly height: number;
  readonly width: number;
  readonly params: number;
  readonly multAdds: number;
  /** Multiply-adds as TensorFlow 1 runs the atrous convolutions (see `Cost.tfMultAdds` in @adl/ops). */
  readonly tfMultAdds: number;
  readonly stages: StageCost[];
}

export class CliError extends Error {
  override name = 'CliError';
}

/** The architecture of a preset or file, refused when its weights alone would not fit in this machine's memory. */
export async function loadArchitecture({ preset, arch, numClasses = 19 }: Pick<SummaryOptions, 'preset' | 'arch' | 'numClasses'>): Promise<Architecture> {
  if ((preset === undefined) === (arch === undefined)) throw new CliError('give exactly one of --preset and --arch');
  const architecture = preset !== undefined ? getPreset(preset) : await readArchitectureFile(arch!);
  const params = fixedNetParameterCount({ architecture, numClasses });
  if (params * 4 > totalmem()) {
    throw new CliError(`${arch ?? preset}: filterMultiplier ${architecture.filterMultiplier} gives ${params.toExponential(2)} parameters, ${(params * 4 / 2 ** 30).toExponential(2)} GB of weights; this machine has ${(totalmem() / 2 ** 30).toFixed(1)} GB`);
  }
  return architecture;
}


/**
 * Parameters and multiply-adds of the retrain network of an architecture at an input size, per
 * stage and in total (counted analytically; the weights are built once on the cpu backend).
 */
export async function summarize(options: SummaryOptions): Promise<Summary> {
  const { height, width } = options;
  for (const [name, value] of [
    ['height', height],
    ['width', width],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) throw new CliError(`--${name} must be a positive integer, got ${value}`);
  }
  await tf.setBackend('cpu');
  silenceCpuBanner();
  const architecture = await loadArchitecture(options);
  const net = new FixedNet({ architecture, numClasses: options.numClasses ?? 19 });
  try {
    const stages = net.costBreakdown([height, width]);
    const { params, multAdds, tfMultAdds } = addCosts(...stages);
    return { name: architecture.name ?? options.arch ?? 'architecture', height, width, params, multAdds, tfMultAdds, stages };
  } finally {
    net.dispose();
  }
}

export function formatSummary(summary: Summary): string {
  const millions = (n: number) => (n / 1e6).toFixed(3);
  const billions = (n: number) => (n / 1e9).toFixed(2);
  const rows = summary.stages.map((s) => `| ${s.stage} | ${millions(s.params)} | ${billions(s.multAdds)} | ${billions(s.tfMultAdds)} |`);
  return [
    `${summary.name} at ${summary.height}×${summary.width}`,
    '',
    '| stage | params (M) | multiply-adds (B) | as TensorFlow runs them (B) |',
    '| --- | ---: | ---: | ---: |',
    ...rows,
    `| **total** | **${(summary.params / 1e6).toFixed(2)}** | **${billions(summary.multAdds)}** | **${billions(summary.tfMultAdds)}** |`,
  ].join('\n');
}
