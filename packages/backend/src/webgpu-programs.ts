import * as tf from '@tensorflow/tfjs';

/**
 * Single-output WGSL programs in tfjs-backend-webgpu's `WebGPUProgram` shape (it declares `result`,
 * one `array<f32>` per input named as in `variableNames`, and a `uniforms` struct with each input's
 * shape and the program's own fields), run through the backend's `runWebGPUProgram`.
 */
export interface WgslProgram {
  readonly outputShape: number[];
  readonly shaderKey: string;
  readonly variableNames: string[];
  readonly workgroupSize: [number, number, number];
  readonly dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  readonly size: boolean;
  readonly uniforms?: string;
  /** The longest loop one thread runs, for the dispatch probe. */
  readonly loopLength?: number;
  getUserCode(): string;
}

export type Uniform = { type: 'float32' | 'int32'; data: number[] };
type TensorInfo = tf.TensorInfo;

export const ELEMENTWISE_WORKGROUP = 64;
/** Threads that share one channel's (or one term's) reduction; a power of two. */
const REDUCTION_WORKGROUP = 256;

/**
 * One class per program name, so that tfjs's profiling (which names a dispatch by its program's
 * constructor) tells the programs apart.
 */
const programClasses = new Map<string, { prototype: object }>();
function programPrototype(name: string): object {
  let named = programClasses.get(name);
  if (!named) programClasses.set(name, (named = { [name]: class {} }[name]));
  return named.prototype;
}

/** A program over `outputShape` in `workgroups` workgroups of `threads` threads, running `main`. */
function program(shaderKey: string, outputShape: number[], variableNames: string[], threads: number, workgroups: number, main: string, uniforms?: string, loopLength?: number): WgslProgram {
  return Object.assign(Object.create(programPrototype(shaderKey.split('_')[0])) as object, {
    loopLength,
    outputShape,
    shaderKey,
    variableNames,
    uniforms,
    size: true,
    workgroupSize: [threads, 1, 1],
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [workgroups, 1, 1],
    getUserCode: () => main,
  }) as WgslProgram;
}

/** One thread per output element: `body` sets `result[index]`. */
export function elementwise(shaderKey: string, outputShape: number[], variableNames: string[], body: string, uniforms?: string, loopLength?: number): WgslProgram {
  const size = outputShape.reduce((a, b) => a * b, 1);
  const main = `
      fn main(index : i32) {
        if (index < uniforms.size) {
          ${body}
        }
      }`;
  return program(shaderKey, outputShape, variableNames, ELEMENTWISE_WORKGROUP, Math.ceil(size / ELEMENTWISE_WORKGROUP), main, uniforms, loopLength);
}

/** Workgroup arrays `shared_<name>`, one per name, for `workgroupTreeSum` over `threads` threads. */
export function workgroupSumArrays(names: readonly string[], threads: number): string {
  return names.map((s) => `var<workgroup> shared_${s} : array<f32, ${threads}>;`).join('\n');
}

/**
 * WGSL that puts each thread's f32 `<name>` into `shared_<name>` and sums them over the workgroup in
 * a fixed tree (the same bits every run), leaving the totals in `shared_<name>[0]`; `lane` is the
 * thread's index in the workgroup, `threads` a power of two.
 */
export function workgroupTreeSum(names: readonly string[], threads: number): string {
  return `
    ${names.map((s) => `shared_${s}[lane] = ${s};`).join(' ')}
    workgroupBarrier();
    for (var stride = ${threads / 2}u; stride > 0u; stride = stride >> 1u) {
      if (lane < stride) { ${names.map((s) => `shared_${s}[lane] = shared_${s}[lane] + shared_${s}[lane + stride];`).join(' ')} }
      workgroupBarrier();
    }`;
}

/**
 * One workgroup per output element `w` (a channel, a term): `accumulate` adds to the `f32` variables
 * named in `sums` for row `r`; the sums are reduced over the workgroup and `finish` writes `result`.
 */
export function reduction(shaderKey: string, outputShape: number[], workgroups: number, variableNames: string[], sums: string[], rows: string, accumulate: string, finish: string, uniforms?: string): WgslProgram {
  const main = `
      ${workgroupSumArrays(sums, REDUCTION_WORKGROUP)}
      fn main(index : i32) {
        let w = i32(workgroupId.x);
        let lane = localId.x;
        ${sums.map((s) => `var ${s} = 0.0;`).join(' ')}
        for (var r = i32(lane); r < ${rows}; r = r + ${REDUCTION_WORKGROUP}) {
          ${accumulate}
        }
        ${workgroupTreeSum(sums, REDUCTION_WORKGROUP)}
        if (lane == 0u) {
          ${sums.map((s) => `${s} = shared_${s}[0];`).join(' ')}
          ${finish}
        }
      }`;
  return program(shaderKey, outputShape, variableNames, REDUCTION_WORKGROUP, workgroups, main, uniforms);
}

interface WebGpuBackend extends tf.KernelBackend {
  runWebGPUProgram(program: WgslProgram, inputs: TensorInfo[], dtype: 'float32', uniforms?: Uniform[]): TensorInfo;
}

export function run(backend: tf.KernelBackend, wgsl: WgslProgram, inputs: TensorInfo[], uniforms?: Uniform[]): TensorInfo {
  return (backend as WebGpuBackend).runWebGPUProgram(wgsl, inputs, 'float32', uniforms);
}

export function assertFloat(kernelName: string, inputs: TensorInfo[]): void {
  if (inputs.some((t) => t.dtype !== 'float32')) throw new TypeError(`${kernelName} takes float32 tensors`);
}

export const f32 = (...data: number[]): Uniform[] => data.map((value) => ({ type: 'float32', data: [value] }));

