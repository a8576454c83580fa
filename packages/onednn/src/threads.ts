import { binding } from './binding.js';

/**
 * `ADL_THREADS`, when set: how many threads oneDNN's primitives and the addon's elementwise loops (of
 * 64k elements and more) run on. Unset, OpenMP's default applies (`OMP_NUM_THREADS`, else one per
 * core). The batch-norm, pool and optimizer kernels are single-threaded either way.
 */
export function threadsFromEnvironment(value: string | undefined = process.env.ADL_THREADS): number | undefined {
  if (value === undefined || value === '') return undefined;
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`ADL_THREADS must be an integer >= 1, got "${value}"`);
  return count;
}

/** Sets the threads oneDNN runs on; returns the count in effect. */
export function setThreads(count: number): number {
  if (!binding) throw new Error('@adl/onednn is not built: no threads to set');
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`threads must be an integer >= 1, got ${count}`);
  return binding.threads(count);
}

/** The threads oneDNN runs on, or null where the addon is not built. */
export function threadCount(): number | null {
  return binding ? binding.threads() : null;
}
