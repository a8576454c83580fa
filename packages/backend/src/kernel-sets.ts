import type { Kernels } from './kernels.js';
import { nativeKernels } from './native-kernels.js';
import { portableKernels } from './portable-kernels.js';
import { stockKernels } from './stock-kernels.js';

export type { Kernels } from './kernels.js';

/** Every kernel set by name; a backend package adds its own on import. */
const sets = new Map<string, Kernels>([portableKernels, stockKernels, nativeKernels].map((kernels) => [kernels.name, kernels]));

/** Sets registered for one tfjs backend, used there in preference to the defaults below. */
const preferred = new Map<string, Kernels>();

/**
 * Makes `kernels` known by its name and, where it names a tfjs backend, the set `kernelsFor` picks
 * on that backend. Backend packages call it when they load.
 */
export function registerKernelSet(kernels: Kernels): void {
  sets.set(kernels.name, kernels);
  if (kernels.backend !== undefined) preferred.set(kernels.backend, kernels);
}

/**
 * The kernel set each backend runs fastest with correct gradients (measured by
 * `bench/mixed-op-step.mjs`, table in `bench/README.md`): a set registered for the backend; on wasm
 * the native set (wasm lacks the conv filter and input backprop kernels); on cpu the portable set
 * (also faster there); elsewhere tfjs's own.
 */
export function kernelsFor(tfjsBackend: string): Kernels {
  const registered = preferred.get(tfjsBackend);
  if (registered) return registered;
  if (tfjsBackend === 'wasm') return nativeKernels;
  return tfjsBackend === 'cpu' ? portableKernels : stockKernels;
}

/** The set of that name, or undefined. */
export function kernelSet(name: string): Kernels | undefined {
  return sets.get(name);
}

export function kernelSetNames(): string[] {
  return [...sets.keys()];
}
