import { totalmem } from 'node:os';
import { writeFileAtomic } from '@adl/data-cityscapes';
import { levelStride } from '@adl/decode';
import { exportOnnx, INFERENCE_BYTES_PER_PIXEL, type OnnxExport } from '@adl/eval';
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
    const outputStride = levelStride(Math.max(...net.path));
    if (Math.min(options.height, options.width) < outputStride) {
      throw new CliError(`--height ${options.height} --width ${options.width}: smaller than the network's output stride ${outputStride}; export at least ${outputStride}×${outputStride}`);
    }
    const bytes = options.height * options.width * INFERENCE_BYTES_PER_PIXEL;
    if (bytes > totalmem()) {
      throw new CliError(`--height ${options.height} --width ${options.width}: the model at that size would need about ${(bytes / 2 ** 30).toExponential(1)} GB to build and run; this machine has ${(totalmem() / 2 ** 30).toFixed(1)} GB`);
    }
    const started = performance.now();
    const exported = await exportOnnx(net, { height: options.height, width: options.width });
    await writeFileAtomic(options.out, exported.bytes);
    log(`[adl] exported ${options.height}×${options.width} in ${((performance.now() - started) / 1000).toFixed(1)} s: ${(exported.bytes.length / 2 ** 20).toFixed(1)} MiB, ONNX ops ${exported.opTypes.join(', ')}`);
    return { ...exported, out: options.out };
  } finally {
    net.dispose();
  }
}
