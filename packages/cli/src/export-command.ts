import { writeFileAtomic } from '@adl/data-cityscapes';
import { exportOnnx, type OnnxExport } from '@adl/eval';
import { loadTrainedNet, logToStderr, selectInstalledBackend } from '@adl/search';
import { FixedNet } from '@adl/trellis';
import { CliError, loadArchitecture } from './summary.js';

export interface ExportOptions {
  /** A retraining checkpoint (its weights), or a preset / architecture file (initial weights, for trying the format). */
  readonly checkpoint?: string;
  readonly preset?: string;
  readonly arch?: string;
  readonly out: string;
  readonly height: number;
  readonly width: number;
  readonly numClasses: number;
  readonly backend: string;
}

/** `adl export`: the network as an ONNX model for the given input size. */
export async function runExport(options: ExportOptions, log: (line: string) => void = logToStderr): Promise<OnnxExport & { out: string }> {
  if (!options.out.endsWith('.onnx')) throw new CliError(`${options.out}: the output file must end in .onnx`);
  if ([options.checkpoint, options.preset, options.arch].filter(Boolean).length !== 1) throw new CliError('give one of --checkpoint, --preset and --arch');
  await selectInstalledBackend({ backend: options.backend as never, log });
  const net = options.checkpoint
    ? (await loadTrainedNet(options.checkpoint)).net
    : new FixedNet({ architecture: await loadArchitecture(options), numClasses: options.numClasses });
  try {
    const started = performance.now();
    const exported = exportOnnx(net, { height: options.height, width: options.width });
    await writeFileAtomic(options.out, exported.bytes);
    log(`[adl] exported ${options.height}×${options.width} in ${((performance.now() - started) / 1000).toFixed(1)} s: ${(exported.bytes.length / 2 ** 20).toFixed(1)} MiB, ONNX ops ${exported.opTypes.join(', ')}`);
    return { ...exported, out: options.out };
  } finally {
    net.dispose();
  }
}
