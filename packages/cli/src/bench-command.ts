import { measureLatency, type LatencyResult } from '@adl/eval';
import { logToStderr, selectInstalledBackend } from '@adl/search';
import { loadNet, type NetSource } from './net-source.js';

export interface BenchOptions extends NetSource {
  readonly height: number;
  readonly width: number;
  readonly runs: number;
  readonly warmup: number;
  readonly backend: string;
}

/** `adl bench`: inference latency of a fixed net at one input size on the chosen backend. */
export async function runBench(options: BenchOptions, log: (line: string) => void = logToStderr): Promise<LatencyResult & { name: string }> {
  const { kernels, backend } = await selectInstalledBackend({ backend: options.backend as never, log });
  const { net, name } = await loadNet(options);
  try {
    const result = await measureLatency(net, { height: options.height, width: options.width, kernels, runs: options.runs, warmup: options.warmup });
    return { ...result, backend, name };
  } finally {
    net.dispose();
  }
}
