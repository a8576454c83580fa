import { selectBackend, type BackendChoice, type SelectBackendOptions } from '@adl/backend';

/**
 * `selectBackend` of @adl/backend, after importing the backend packages this package lists as
 * optional dependencies (`@adl/onednn`): like tfjs's backend packages, each registers itself on
 * import, and @adl/backend cannot depend on them.
 */
export async function selectInstalledBackend(options: SelectBackendOptions = {}): Promise<BackendChoice> {
  await import('@adl/onednn').catch((error: NodeJS.ErrnoException) => {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
  });
  return selectBackend(options);
}
