import { selectBackend, type BackendChoice, type SelectBackendOptions } from '@adl/backend';

/**
 * `selectBackend` of @adl/backend, after importing the backend packages this package lists as
 * optional dependencies (`@adl/onednn`): like tfjs's backend packages, each registers itself on
 * import, and @adl/backend cannot depend on them.
 */
export async function selectInstalledBackend(options: SelectBackendOptions = {}): Promise<BackendChoice> {
  await importOneDnn();
  return selectBackend(options);
}

async function importOneDnn(): Promise<typeof import('@adl/onednn') | undefined> {
  return import('@adl/onednn').catch((error: NodeJS.ErrnoException) => {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
    return undefined;
  });
}

/**
 * What a checkpoint records of where a run computes: the backend, its kernels and, on onednn, the
 * thread count (each changes the order of sums, so the last bits of the results).
 */
export async function computeEnvironment({ backend, kernels }: Pick<BackendChoice, 'backend' | 'kernels'>): Promise<Record<string, unknown>> {
  const threads = backend === 'onednn' ? (await importOneDnn())?.threadCount() : undefined;
  return { backend, kernels: kernels.name, ...(threads ? { threads } : {}) };
}
