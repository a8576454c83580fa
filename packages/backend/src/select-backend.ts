import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { releaseShapeOnlySaves } from './shape-only-saves.js';
import { shareSavedTensors } from './saved-tensors.js';
import { kernelSet, kernelsFor, kernelSetNames, type Kernels } from './kernel-sets.js';
import { gpuDeviceFiles } from './gpu-device-files.js';
import { registerWebGpuKernels } from './webgpu-kernels.js';

/** The compute backends, in the order `auto` tries them. */
export const BACKENDS = ['node-gpu', 'node', 'webgpu', 'onednn', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

/** What a config or a command line may name: `auto` or one backend. */
export const BACKEND_CHOICES = ['auto', ...BACKENDS] as const;
export type BackendChoiceName = (typeof BACKEND_CHOICES)[number];

export interface BackendAttempt {
  readonly backend: BackendName;
  readonly ok: boolean;
  readonly reason: string;
}

export interface BackendChoice {
  readonly backend: BackendName;
  /** The name tfjs knows the backend by (`tensorflow`, `webgpu`, `wasm`, `cpu`). */
  readonly tfjsBackend: string;
  readonly kernels: Kernels;
  /** The device it computes on, where the backend names one (the WebGPU adapter). */
  readonly device?: string;
  /** Whether that device is a software adapter (llvmpipe and the like). */
  readonly softwareDevice?: boolean;
  /** Every backend tried, in order, with why it was used or skipped. */
  readonly attempts: readonly BackendAttempt[];
}

export interface SelectBackendOptions {
  /** `auto` (default) or one backend; the `ADL_BACKEND` environment variable overrides it. */
  readonly backend?: BackendName | 'auto';
  /** Kernel set by name; `auto` (default) uses `kernelsFor`. `ADL_KERNELS` overrides it. */
  readonly kernels?: string;
  /** In `auto`, also accept a software WebGPU adapter (slower than wasm on the same CPU). */
  readonly allowSoftwareWebGpu?: boolean;
  /** Where the choice is reported; `console.error` by default, `null` for silence. */
  readonly log?: ((line: string) => void) | null;
}

export class BackendError extends Error {
  override name = 'BackendError';
}

/** Loads one backend; `log` is where the selector reports (null: silent). */
type Loader = (options: SelectBackendOptions, auto: boolean, log: ((line: string) => void) | null) => Promise<string>;

// A variable specifier keeps bundlers and the type checker from requiring optional packages.
const importOptional = (specifier: string): Promise<any> => import(specifier);

function describeError(error: unknown): string {
  if ((error as { code?: string })?.code === 'ERR_MODULE_NOT_FOUND') {
    const missing = /package '([^']+)'/.exec(String((error as Error).message))?.[1];
    return `${missing ?? 'package'} not installed`;
  }
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0];
}

async function activate(tfjsBackend: string): Promise<string> {
  if (!(await tf.setBackend(tfjsBackend))) throw new BackendError(`tfjs could not initialise "${tfjsBackend}"`);
  await tf.ready();
  return tfjsBackend;
}

const LOADERS: Record<BackendName, Loader> = {
  'node-gpu': async () => {
    await importOptional('@tensorflow/tfjs-node-gpu');
    const binding = (tf.backend() as any)?.binding;
    if (binding?.isUsingGpuDevice && !binding.isUsingGpuDevice()) {
      throw new BackendError('libtensorflow found no CUDA device (it needs CUDA 11.2 and cuDNN 8.1)');
    }
    return activate('tensorflow');
  },
  node: async () => {
    await importOptional('@tensorflow/tfjs-node');
    return activate('tensorflow');
  },
  webgpu: async (options, auto, log) => {
    // One Dawn instance per process, loaded once: a second one, once garbage-collected, tears down
    // Vulkan state the first device still uses (the process hangs or aborts in a futex).
    if (devices.has('webgpu') && tf.findBackend('webgpu')) return activate('webgpu');
    if (auto && !options.allowSoftwareWebGpu && process.platform === 'linux' && gpuDeviceFiles().length === 0) {
      throw new BackendError('no GPU device (/dev/dri/renderD*, /dev/nvidia*), so no hardware adapter');
    }
    const { create, globals } = await importOptional('webgpu');
    Object.assign(globalThis, globals);
    const gpu = create([]);
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) throw new BackendError('no WebGPU adapter (a Vulkan driver is needed)');
    const info = adapter.info ?? {};
    const software = info.isFallbackAdapter || /llvmpipe|lavapipe|swiftshader|software/i.test(`${info.description} ${info.device}`);
    if (auto && software && !options.allowSoftwareWebGpu) {
      throw new BackendError(`only a software adapter (${info.description || info.device}), slower than wasm`);
    }
    devices.set('webgpu', { name: [info.vendor, info.description || info.device].filter(Boolean).join(' ') || 'unnamed adapter', software: Boolean(software) });
    const shortage = software ? memoryMapShortage() : undefined;
    if (shortage) log?.(`[adl] warning: ${shortage}`);
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: withAllStorageBuffers(gpu) }, configurable: true });
    await importOptional('@tensorflow/tfjs-backend-webgpu');
    registerWebGpuKernels();
    return activate('webgpu');
  },
  onednn: async () => {
    // @adl/onednn registers the backend and its kernel set when it is imported, where its addon was
    // built; packages that list it (search, cli) import it first, as this package cannot depend on it.
    if (!tf.findBackendFactory('onednn')) {
      const addon = await importOptional('@adl/onednn');
      const { binding, reason } = addon.default ?? addon;
      if (!binding) throw new BackendError(`@adl/onednn ${reason}`);
    }
    return activate('onednn');
  },
  wasm: async () => {
    await importOptional('@tensorflow/tfjs-backend-wasm');
    const name = await activate('wasm');
    if (!tf.env().getBool('WASM_HAS_SIMD_SUPPORT')) throw new BackendError('wasm without SIMD');
    return name;
  },
  cpu: async () => activate('cpu'),
};

/** The device each loaded backend computes on, where it names one, and whether it is a software adapter. */
const devices = new Map<BackendName, { readonly name: string; readonly software: boolean }>();

/** Memory maps a training step on a software Vulkan driver may need (see memoryMapShortage). */
const SOFTWARE_VULKAN_MAPS = 1_048_576;

/**
 * Mesa's software Vulkan driver backs every descriptor set with its own memory map, and Dawn reuses
 * a bind group's set only between steps, so a training step needs about one map per dispatch: past
 * Linux's default `vm.max_map_count` (65,530) the process dies with SIGSEGV. Returns what to do
 * where the limit is too low, else undefined.
 */
export function memoryMapShortage(): string | undefined {
  let limit: number;
  try {
    limit = Number(readFileSync('/proc/sys/vm/max_map_count', 'utf8'));
  } catch {
    return undefined;
  }
  if (limit >= SOFTWARE_VULKAN_MAPS) return undefined;
  return (
    `vm.max_map_count is ${limit}; a software Vulkan adapter maps memory once per dispatch and a training step ` +
    `can pass it (the process then dies with SIGSEGV): sysctl -w vm.max_map_count=${SOFTWARE_VULKAN_MAPS}`
  );
}

/**
 * tfjs's WebGPU backend requests a device with default limits, under which `addN` over 8 inputs
 * silently computes a wrong sum; ask for the adapter's full storage-buffer limit instead.
 */
function withAllStorageBuffers(gpu: any): any {
  return {
    getPreferredCanvasFormat: () => gpu.getPreferredCanvasFormat?.(),
    wgslLanguageFeatures: gpu.wgslLanguageFeatures,
    requestAdapter: async (descriptor?: object) => {
      const adapter = await gpu.requestAdapter(descriptor);
      if (!adapter) return adapter;
      return new Proxy(adapter, {
        get(target, property) {
          if (property === 'requestDevice') {
            return (deviceDescriptor: any = {}) =>
              target.requestDevice({
                ...deviceDescriptor,
                requiredLimits: {
                  ...deviceDescriptor.requiredLimits,
                  maxStorageBuffersPerShaderStage: target.limits.maxStorageBuffersPerShaderStage,
                },
              });
          }
          const value = Reflect.get(target, property, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    },
  };
}

function parseBackend(value: string | undefined, source: string): BackendName | 'auto' | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === 'auto' || (BACKENDS as readonly string[]).includes(value)) return value as BackendName | 'auto';
  throw new BackendError(`${source}="${value}" is not one of auto, ${BACKENDS.join(', ')}`);
}

/** Backends that `auto` found unusable in this process, with the reason: not probed again (a WebGPU probe costs seconds). */
const autoFailures = new Map<BackendName, string>();

/**
 * Picks and activates the tfjs backend: `auto` tries node-gpu, node, WebGPU (hardware adapter),
 * wasm (SIMD), then cpu; `ADL_BACKEND` or `options.backend` forces one (and fails loudly if it
 * cannot load). Logs the choice and why each earlier backend was skipped.
 */
export async function selectBackend(options: SelectBackendOptions = {}): Promise<BackendChoice> {
  const requested = parseBackend(process.env.ADL_BACKEND, 'ADL_BACKEND') ?? options.backend ?? 'auto';
  releaseShapeOnlySaves();
  shareSavedTensors();
  const auto = requested === 'auto';
  const candidates: readonly BackendName[] = auto ? BACKENDS : [requested];
  const attempts: BackendAttempt[] = [];
  const log = options.log === undefined ? (line: string) => console.error(line) : options.log;
  for (const backend of candidates) {
    const knownFailure = auto ? autoFailures.get(backend) : undefined;
    if (knownFailure !== undefined) {
      attempts.push({ backend, ok: false, reason: knownFailure });
      continue;
    }
    try {
      const tfjsBackend = await LOADERS[backend](options, auto, log);
      const kernels = chooseKernels(tfjsBackend, options.kernels);
      silenceCpuBanner();
      attempts.push({ backend, ok: true, reason: auto ? 'first available' : 'requested' });
      const device = devices.get(backend);
      log?.(formatChoice(backend, device?.name, kernels, attempts));
      return { backend, tfjsBackend, kernels, ...(device === undefined ? {} : { device: device.name, softwareDevice: device.software }), attempts };
    } catch (error) {
      const reason = describeError(error);
      attempts.push({ backend, ok: false, reason });
      if (auto) autoFailures.set(backend, reason);
    }
  }
  const failures = attempts.map((a) => `${a.backend}: ${a.reason}`).join('; ');
  throw new BackendError(`no usable tfjs backend (${failures})`);
}

/**
 * tfjs's cpu backend prints "Hi, looks like you are running TensorFlow.js in Node.js… install our node
 * backend" on its first use in Node. The selector's own line says which backend runs and why, so that
 * banner is marked as already shown.
 */
export function silenceCpuBanner(): void {
  // The cpu backend itself, and the active one when it is a cpu backend instance (onednn is).
  for (const backend of [tf.findBackend('cpu'), tf.backend()] as ({ firstUse?: boolean } | null)[]) {
    if (backend && 'firstUse' in backend) backend.firstUse = false;
  }
}

function chooseKernels(tfjsBackend: string, option: string | undefined): Kernels {
  const forced = process.env.ADL_KERNELS || option;
  if (forced === undefined || forced === 'auto') return kernelsFor(tfjsBackend);
  const kernels = kernelSet(forced);
  if (!kernels) throw new BackendError(`ADL_KERNELS="${forced}" is not one of auto, ${kernelSetNames().join(', ')}`);
  if (kernels.backend !== undefined && kernels.backend !== tfjsBackend) {
    throw new BackendError(`the ${forced} kernels do not run on the ${tfjsBackend} backend`);
  }
  return kernels;
}

function formatChoice(backend: BackendName, device: string | undefined, kernels: Kernels, attempts: readonly BackendAttempt[]): string {
  const skipped = attempts.filter((a) => !a.ok).map((a) => `${a.backend} (${a.reason})`);
  return `[adl] backend ${backend}${device ? ` (${device})` : ''}, ${kernels.name} kernels${skipped.length ? `; skipped ${skipped.join(', ')}` : ''}`;
}
