import * as tf from '@tensorflow/tfjs';

/**
 * Compute shaders dispatched on the webgpu backend's own device and command stream, for what
 * tfjs's `runWebGPUProgram` cannot express: several outputs from one dispatch (a batch norm's mean
 * and variance, an SGD step's new value and velocity, the gradients of a scale and an offset) and
 * bindings that the shader may leave unused (an explicit layout). The dispatch is recorded into
 * tfjs's open compute pass, so it is ordered with tfjs's own work; its buffers are tfjs tensors.
 */

type TensorInfo = tf.TensorInfo;
/** What tfjs hands a kernel function. */
export type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap };
// The WebGPU objects used here, as far as they are used (no dependency on a WebGPU type package).
type GPUDevice = any;
type GPUBuffer = any;
type GPUBindGroupLayout = any;
type GPUComputePipeline = any;
type GPUComputePassEncoder = any;
type GPUCommandEncoder = any;
type GPUQuerySet = any;
type GPUBufferBinding = { buffer: GPUBuffer; offset?: number; size?: number };
/** COMPUTE_STAGE. */
const COMPUTE_STAGE = 4;

/** One scalar uniform; the WGSL struct `Uniforms` gets a field of that name and type. */
export interface ScalarUniform {
  readonly name: string;
  readonly type: 'i32' | 'u32' | 'f32';
  readonly value: number;
}

export interface GpuKernel {
  /** How the dispatch probe names the kernel. */
  readonly name: string;
  /**
   * The WGSL of the entry point's body and what it needs before it (`declarations`, e.g. workgroup
   * arrays and helper functions). In scope: `lane` (u32, the thread in its workgroup), `group` (i32,
   * the workgroup's linear index), `thread` (i32, `group · threads + lane`), the outputs `out0…`, the
   * updated tensors and the (read-only) inputs under their names, and the uniforms as `u.<name>`.
   */
  readonly body: string;
  readonly declarations?: string;
  /** Names and tensors of the inputs (float32 arrays, int32 for int32 tensors). */
  readonly inputs: readonly (readonly [string, TensorInfo])[];
  /** Names and float32 tensors the shader updates in place (read and written). */
  readonly updates?: readonly (readonly [string, TensorInfo])[];
  /** Shapes of the float32 outputs. */
  readonly outputs: readonly (readonly number[])[];
  readonly uniforms?: readonly ScalarUniform[];
  /** Threads per workgroup. */
  readonly threads: number;
  readonly workgroups: number;
  /** The longest loop one thread runs (iterations), for the dispatch probe. */
  readonly loopLength?: number;
}

/** What the dispatch probe sees of a dispatch made here; `encode: false` skips the GPU work (dry runs). */
export interface DispatchObserver {
  readonly encode: boolean;
  onDispatch(name: string, workgroups: number, loopLength: number | undefined, hostMs: number): void;
}

let observer: DispatchObserver | undefined;

/** Installs (or with undefined removes) the observer of the dispatches made here. */
export function observeGpuKernels(next: DispatchObserver | undefined): void {
  observer = next;
}

interface WebGpuBackendInternals {
  device: GPUDevice;
  tensorMap: { get(dataId: object): { resource: unknown; values: Float32Array | null } };
  commandEncoder: GPUCommandEncoder;
  computePassEncoder: GPUComputePassEncoder | null;
  dispatchCountInPass: number;
  commandQueueOwnedIds: WeakSet<object>;
  activeTimers: { name: string; query: Promise<number> }[] | null;
  supportTimestampQuery: boolean;
  querySet: GPUQuerySet | null;
  querySetCount: number;
  makeTensorInfo(shape: number[], dtype: 'float32'): TensorInfo;
  uploadToGPU(dataId: object): void;
  makeUniforms(uniforms: { type: string; data: number[] }[]): GPUBufferBinding;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  getQueryTime(): Promise<number>;
}

/** Tensors per dispatch at most, whatever the device allows. */
const MAX_TENSORS_PER_DISPATCH = 16;

/** Tensors of `bindings` storage buffers each that one dispatch may take on this device (its limit per shader stage). */
export function tensorsPerDispatch(bindings: number): number {
  const device = (tf.backend() as unknown as { device: { limits: { maxStorageBuffersPerShaderStage: number } } }).device;
  return Math.max(1, Math.min(MAX_TENSORS_PER_DISPATCH, Math.floor(device.limits.maxStorageBuffersPerShaderStage / bindings)));
}

/** The kernel's uniforms; a struct needs a field, so an unused one where it has none. */
function uniformsOf(kernel: GpuKernel): readonly ScalarUniform[] {
  return kernel.uniforms?.length ? kernel.uniforms : [{ name: 'unused', type: 'i32', value: 0 }];
}

const pipelines = new WeakMap<GPUDevice, Map<string, { pipeline: GPUComputePipeline; layout: GPUBindGroupLayout }>>();
/** Workgroups per dimension: WebGPU's guaranteed limit. More spill into y. */
const MAX_WORKGROUPS_X = 65535;

/** Bindings in order: outputs, updated tensors, inputs (storage buffers), then the uniforms. */
function storageBindings(kernel: GpuKernel): { name: string; writable: boolean; type: string }[] {
  return [
    ...kernel.outputs.map((_, i) => ({ name: `out${i}`, writable: true, type: 'f32' })),
    ...(kernel.updates ?? []).map(([name]) => ({ name, writable: true, type: 'f32' })),
    ...kernel.inputs.map(([name, t]) => ({ name, writable: false, type: t.dtype === 'int32' ? 'i32' : 'f32' })),
  ];
}

function shaderSource(kernel: GpuKernel): string {
  const uniforms = uniformsOf(kernel);
  const storage = storageBindings(kernel);
  const bindings = [
    ...storage.map((b, i) => `@group(0) @binding(${i}) var<storage, ${b.writable ? 'read_write' : 'read'}> ${b.name} : array<${b.type}>;`),
    `struct Uniforms { ${uniforms.map((v) => `${v.name} : ${v.type},`).join(' ')} }`,
    `@group(0) @binding(${storage.length}) var<uniform> u : Uniforms;`,
  ];
  return `${bindings.join('\n')}
${kernel.declarations ?? ''}
@compute @workgroup_size(${kernel.threads})
fn main(@builtin(local_invocation_index) lane : u32, @builtin(workgroup_id) wid : vec3<u32>, @builtin(num_workgroups) nwg : vec3<u32>) {
  let group = i32(wid.x + wid.y * nwg.x);
  let thread = group * ${kernel.threads} + i32(lane);
  ${kernel.body}
}`;
}

function pipelineFor(device: GPUDevice, kernel: GpuKernel, code: string) {
  let cache = pipelines.get(device);
  if (!cache) pipelines.set(device, (cache = new Map()));
  let entry = cache.get(code);
  if (!entry) {
    const storage = storageBindings(kernel);
    const entries = [
      ...storage.map((b, i) => ({ binding: i, visibility: COMPUTE_STAGE, buffer: { type: b.writable ? 'storage' : 'read-only-storage' } })),
      { binding: storage.length, visibility: COMPUTE_STAGE, buffer: { type: 'uniform' } },
    ];
    const layout = device.createBindGroupLayout({ entries });
    const pipeline = device.createComputePipeline({
      layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module: device.createShaderModule({ code }), entryPoint: 'main' },
    });
    cache.set(code, (entry = { pipeline, layout }));
  }
  return entry;
}

/** Runs `kernel` on the current (webgpu) backend; returns its outputs as tensor infos. */
export function dispatchGpuKernel(kernel: GpuKernel): TensorInfo[] {
  const start = performance.now();
  const backend = tf.backend() as unknown as WebGpuBackendInternals;
  const outputs = kernel.outputs.map((shape) => backend.makeTensorInfo([...shape], 'float32'));
  if (outputs.some((o) => tf.util.sizeFromShape(o.shape) === 0)) {
    // As tfjs's runWebGPUProgram: an empty output holds an empty array, and nothing is dispatched.
    for (const o of outputs) backend.tensorMap.get(o.dataId).values = new Float32Array(tf.util.sizeFromShape(o.shape));
    return outputs;
  }
  const tensors = [...outputs, ...(kernel.updates ?? []).map(([, t]) => t), ...kernel.inputs.map(([, t]) => t)];
  for (const t of tensors) backend.uploadToGPU(t.dataId);
  const code = shaderSource(kernel);
  const { pipeline, layout } = pipelineFor(backend.device, kernel, code);
  const encode = observer?.encode ?? true;
  if (encode) {
    const uniforms = uniformsOf(kernel).map((v) => ({
      type: v.type === 'f32' ? 'float32' : v.type === 'u32' ? 'uint32' : 'int32',
      data: [v.value],
    }));
    const bindGroup = backend.device.createBindGroup({
      layout,
      entries: [
        ...tensors.map((t, i) => ({ binding: i, resource: { buffer: backend.tensorMap.get(t.dataId).resource as GPUBuffer } })),
        { binding: tensors.length, resource: backend.makeUniforms(uniforms) },
      ],
    });
    for (const t of tensors) backend.commandQueueOwnedIds.add(t.dataId);
    const x = Math.min(kernel.workgroups, MAX_WORKGROUPS_X);
    const y = Math.ceil(kernel.workgroups / x);
    // Threads past `workgroups` (the y spill rounds up) must do nothing: kernels guard on their sizes.
    record(backend, kernel.name, (pass) => {
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(x, y, 1);
    });
  }
  observer?.onDispatch(kernel.name, kernel.workgroups, kernel.loopLength, performance.now() - start);
  return outputs;
}

/** Records one dispatch into tfjs's compute pass, as tfjs records its own (timed alone while a profile runs). */
function record(backend: WebGpuBackendInternals, name: string, encode: (pass: GPUComputePassEncoder) => void): void {
  backend.ensureCommandEncoderReady();
  const timed = backend.activeTimers != null;
  if (timed && backend.supportTimestampQuery) {
    backend.endComputePassEncoder();
    backend.querySet ??= backend.device.createQuerySet({ type: 'timestamp', count: backend.querySetCount });
    backend.computePassEncoder = backend.commandEncoder.beginComputePass({
      timestampWrites: { querySet: backend.querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 },
    });
  } else if (!backend.computePassEncoder) {
    backend.computePassEncoder = backend.commandEncoder.beginComputePass({});
  }
  encode(backend.computePassEncoder!);
  backend.dispatchCountInPass++;
  if (timed || (tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE') as number) <= backend.dispatchCountInPass) {
    backend.endComputePassEncoder();
    if (timed) backend.activeTimers!.push({ name, query: backend.getQueryTime() });
    else backend.submitQueue();
  }
}
