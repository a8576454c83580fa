import * as tf from '@tensorflow/tfjs';
import { observeGpuKernels } from './gpu-dispatch.js';

/**
 * What the webgpu backend sends the GPU while a probe is on: shader dispatches (each with a fixed
 * host and GPU cost), uploads of CPU-held tensors (each through its own staging buffer), GPU→CPU
 * reads (each makes the CPU wait for the GPU), the host time tfjs spends per dispatch, and per
 * program its workgroups and the longest loop one of its threads runs (the parallelism it leaves).
 */
export interface ProgramStats {
  /** The program's class name (tfjs's programs) or kind (this package's kernels). */
  readonly program: string;
  dispatches: number;
  /** Fewest and most workgroups of one dispatch. */
  minWorkgroups: number;
  maxWorkgroups: number;
  /** Longest per-thread loop of one dispatch (iterations), where the program's shape says it; else undefined. */
  longestLoop: number | undefined;
  /** Host time of its dispatches. */
  hostMs: number;
}

export interface ProbeCounts {
  readonly dispatches: number;
  readonly uploads: number;
  readonly uploadBytes: number;
  readonly reads: number;
  /** Host time inside `runWebGPUProgram` (shader key, bind group, uniforms, recording). */
  readonly hostMs: number;
}

export interface DispatchProbe {
  /** Counts since the probe started or was last reset. */
  counts(): ProbeCounts;
  /** Per-program statistics since the probe started or was last reset, most dispatched first. */
  programs(): ProgramStats[];
  reset(): void;
  /** Restores the backend's own entry points. */
  stop(): void;
}

export interface DispatchProbeOptions {
  /**
   * Record every dispatch but run none (the command is never encoded): counts at sizes a software
   * adapter would take minutes to compute. Values computed meanwhile are meaningless.
   */
  readonly dryRun?: boolean;
}

type TensorInfo = tf.TensorInfo;
interface Program {
  readonly shaderKey: string;
  readonly dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number];
  readonly outputShape: number[];
  /** Set by the programs in this package: the longest loop one thread runs. */
  readonly loopLength?: number;
  readonly transposeA?: boolean;
  readonly splitedDimInner?: number;
  readonly inputShape?: number[];
}
interface ProbedBackend {
  runWebGPUProgram(program: Program, inputs: TensorInfo[], ...rest: unknown[]): TensorInfo;
  recordAndSubmit(...args: unknown[]): void;
  uploadToGPU(dataId: object): void;
  read(dataId: object): Promise<unknown>;
  readSync(dataId: object): unknown;
  tensorMap: { get(dataId: object): { values: ArrayLike<number> | null; resource: unknown; shape: number[]; dtype: string } };
}

/**
 * The longest loop one thread of `program` runs, read from its inputs' shapes for the tfjs
 * programs whose loops grow with the data (convolution gradients, matrix products, reductions).
 */
export function perThreadLoop(program: Program, inputs: readonly TensorInfo[]): number | undefined {
  if (program.loopLength !== undefined) return program.loopLength;
  const shape = (i: number) => inputs[i]?.shape ?? [];
  switch (program.constructor.name) {
    case 'Conv2DDerFilterProgram':
    case 'DepthwiseConv2DDerFilterProgram': {
      const [batch, height, width] = shape(1);
      return batch * height * width;
    }
    case 'Conv2DDerInputProgram':
    case 'Conv2DDerInputMMProgram': {
      const [fh, fw, , outChannels] = shape(1);
      return fh * fw * outChannels;
    }
    case 'DepthwiseConv2DDerInputProgram': {
      const [fh, fw] = shape(1);
      return fh * fw;
    }
    case 'MatMulPackedProgram':
    case 'MatMulSmallOutputSizeProgram':
    case 'MatMulReduceProgram': {
      const a = shape(0);
      return program.transposeA ? a[a.length - 2] : a[a.length - 1];
    }
    case 'MatMulSplitKProgram':
      return program.splitedDimInner;
    case 'ReduceProgram':
      return program.inputShape ? Math.ceil(program.inputShape[1] / program.workgroupSize[0]) : undefined;
    default:
      return undefined;
  }
}

/** A program's class name (tfjs's programs; this package's are named by kind), else its shader key's first part. */
function programName(program: Program): string {
  const name = program.constructor?.name;
  return name && name !== 'Object' ? name : String(program.shaderKey).split('_')[0];
}

/** Starts counting on the current backend, which must be webgpu. */
export function probeWebGpu(options: DispatchProbeOptions = {}): DispatchProbe {
  if (tf.getBackend() !== 'webgpu') throw new Error(`the dispatch probe needs the webgpu backend, not ${tf.getBackend()}`);
  const backend = tf.backend() as unknown as ProbedBackend;
  const originals = {
    runWebGPUProgram: backend.runWebGPUProgram,
    recordAndSubmit: backend.recordAndSubmit,
    uploadToGPU: backend.uploadToGPU,
    read: backend.read,
    readSync: backend.readSync,
  };
  let counts = { dispatches: 0, uploads: 0, uploadBytes: 0, reads: 0, hostMs: 0 };
  let programs = new Map<string, ProgramStats>();

  const count = (name: string, workgroups: number, loop: number | undefined, hostMs: number) => {
    counts.hostMs += hostMs;
    counts.dispatches++;
    const stats = programs.get(name) ?? { program: name, dispatches: 0, minWorkgroups: Infinity, maxWorkgroups: 0, longestLoop: undefined, hostMs: 0 };
    stats.dispatches++;
    stats.hostMs += hostMs;
    stats.minWorkgroups = Math.min(stats.minWorkgroups, workgroups);
    stats.maxWorkgroups = Math.max(stats.maxWorkgroups, workgroups);
    if (loop !== undefined) stats.longestLoop = Math.max(stats.longestLoop ?? 0, loop);
    programs.set(name, stats);
  };
  backend.runWebGPUProgram = function (program, inputs, ...rest) {
    const start = performance.now();
    const output = originals.runWebGPUProgram.call(this, program, inputs, ...rest);
    count(programName(program), program.dispatch.reduce((a, b) => a * b, 1), perThreadLoop(program, inputs), performance.now() - start);
    return output;
  };
  // The package's own kernels dispatch outside runWebGPUProgram (gpu-dispatch.ts).
  observeGpuKernels({ encode: !options.dryRun, onDispatch: count });
  if (options.dryRun) backend.recordAndSubmit = () => undefined;
  backend.uploadToGPU = function (dataId) {
    const data = this.tensorMap.get(dataId);
    if (data.resource == null && data.values != null) {
      counts.uploads++;
      counts.uploadBytes += 4 * data.values.length;
    }
    return originals.uploadToGPU.call(this, dataId);
  };
  backend.read = function (dataId) {
    counts.reads++;
    return originals.read.call(this, dataId);
  };
  backend.readSync = function (dataId) {
    counts.reads++;
    return originals.readSync.call(this, dataId);
  };

  return {
    counts: () => ({ ...counts }),
    programs: () => [...programs.values()].sort((a, b) => b.dispatches - a.dispatches),
    reset() {
      counts = { dispatches: 0, uploads: 0, uploadBytes: 0, reads: 0, hostMs: 0 };
      programs = new Map();
    },
    stop() {
      Object.assign(backend, originals);
      observeGpuKernels(undefined);
    },
  };
}

/** The probe's per-step table: counts divided by `steps`, then the programs, most dispatched first. */
export function formatProbe(probe: DispatchProbe, steps = 1, top = 25): string {
  const c = probe.counts();
  const per = (n: number) => Math.round((10 * n) / steps) / 10;
  const lines = [
    `per step: ${per(c.dispatches)} dispatches, ${per(c.uploads)} uploads (${per(c.uploadBytes / 1024)} KiB), ${per(c.reads)} GPU→CPU reads, ` +
      `${c.dispatches ? ((1000 * c.hostMs) / c.dispatches).toFixed(1) : '—'} µs host time per dispatch`,
    `${'program'.padEnd(36)} ${'dispatches'.padStart(10)} ${'workgroups'.padStart(17)} ${'longest loop'.padStart(12)} ${'host µs each'.padStart(12)}`,
  ];
  for (const p of probe.programs().slice(0, top)) {
    const workgroups = p.minWorkgroups === p.maxWorkgroups ? String(p.maxWorkgroups) : `${p.minWorkgroups}–${p.maxWorkgroups}`;
    lines.push(`${p.program.padEnd(36)} ${String(per(p.dispatches)).padStart(10)} ${workgroups.padStart(17)} ${String(p.longestLoop ?? '—').padStart(12)} ${((1000 * p.hostMs) / p.dispatches).toFixed(1).padStart(12)}`);
  }
  return lines.join('\n');
}
