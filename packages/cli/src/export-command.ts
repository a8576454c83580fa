import { writeFileAtomic } from '@adl/data-cityscapes';
import { exportOnnx, type OnnxExport } from '@adl/eval';
import { logToStderr, selectInstalledBackend } from '@adl/search';
import { loadNet, type NetSource } from './net-source.js';
import { CliError } from './summary.js';

/** A retraining checkpoint (its weights), or a preset / architecture file (initial weights, for trying the format). */
export interface ExportOptions extends NetSource {
  readonly out: string;
  readonly height: number;
  readonly width: number;
  readonly backend: string;
}

/** `adl export`: the network as an ONNX model for the given input size. */
export async function runExport(options: ExportOptions, log: (line: string) => void = logToStderr): Promise<OnnxExport & { out: string }> {
  if (!options.out.endsWith('.onnx')) throw new CliError(`${options.out}: the output file must end in .onnx`);
  await selectInstalledBackend({ backend: options.backend as never, log });
  const { net } = await loadNet(options);
  try {
    const started = performance.now();
    const exported = await exportOnnx(net, { height: options.height, width: options.width });
    await writeFileAtomic(options.out, exported.bytes);
    log(`[adl] exported ${options.height}×${options.width} in ${((performance.now() - started) / 1000).toFixed(1)} s: ${(exported.bytes.length / 2 ** 20).toFixed(1)} MiB, ONNX ops ${exported.opTypes.join(', ')}`);
    return { ...exported, out: options.out };
  } finally {
    net.dispose();
  }
}
