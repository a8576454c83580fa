import { measureLatency, type LatencyResult } from '@adl/eval';
import { loadTrainedNet, logToStderr, selectInstalledBackend } from '@adl/search';
import { FixedNet } from '@adl/trellis';
import { loadArchitecture } from './summary.js';

export interface BenchOptions {
  readonly preset?: string;
  readonly arch?: string;
  /** A retraining checkpoint: its net as trained (ASPP width, rates, classes). */
  readonly checkpoint?: string;
  readonly height: number;
  readonly width: number;
  readonly runs: number;
  readonly warmup: number;
  readonly backend: string;
  readonly numClasses: number;
}

/** `adl bench`: inference latency of a fixed net at one input size on the chosen backend. */
export async function runBench(options: BenchOptions, log: (line: string) => void = logToStderr): Promise<LatencyResult & { name: string }> {
  const { kernels, backend } = await selectInstalledBackend({ backend: options.backend as never, log });
  let name: string;
  let net: FixedNet;
  if (options.checkpoint) {
    if (options.preset || options.arch) throw new Error('give one of --preset, --arch and --checkpoint');
    ({ net } = await loadTrainedNet(options.checkpoint));
    name = options.checkpoint;
  } else {
    const architecture = await loadArchitecture(options);
    net = new FixedNet({ architecture, numClasses: options.numClasses });
    name = architecture.name ?? options.arch ?? 'architecture';
  }
  try {
    const result = await measureLatency(net, { height: options.height, width: options.width, kernels, runs: options.runs, warmup: options.warmup });
    return { ...result, backend, name };
  } finally {
    net.dispose();
  }
}
