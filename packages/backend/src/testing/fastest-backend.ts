import { selectBackend, type BackendName } from '../select-backend.js';

/**
 * Activates the fastest backend that installs without a GPU, for tests of the layers above the
 * kernels (whose cross-backend agreement is tested here, in @adl/ops): `onednn` where @adl/onednn
 * was built, else `wasm`. Returns its name, for configs that take a backend.
 */
export async function useFastestTestBackend(): Promise<BackendName> {
  const choice = await selectBackend({ backend: 'onednn', log: null }).catch(() => selectBackend({ backend: 'wasm', log: null }));
  return choice.backend;
}
