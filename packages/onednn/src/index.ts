import { registerKernelSet } from '@adl/backend';
import { registerOneDnnBackend } from './backend.js';
import { binding } from './binding.js';
import { onednnKernels } from './kernels.js';
import { threadsFromEnvironment } from './threads.js';

// Like tfjs's own backend packages, importing this one registers it: the `onednn` tfjs backend
// and, for the layers of @adl/ops, its kernel set (where the addon was built).
if (binding) {
  const threads = threadsFromEnvironment();
  if (threads !== undefined) binding.threads(threads);
  registerOneDnnBackend(binding);
  registerKernelSet(onednnKernels);
}

export { addonFile, binding, reason, type OneDnnBinding } from './binding.js';
export { ONEDNN_BACKEND, registerOneDnnBackend } from './backend.js';
export { onednnKernels } from './kernels.js';
export { setThreads, threadCount, threadsFromEnvironment } from './threads.js';
export { CPU_ISAS, instructionSet } from './instruction-set.js';
export { poolMegabytesFromEnvironment, DEFAULT_POOL_MEGABYTES } from './buffer-pool.js';
export { AFFINE_BATCH_NORM_KERNELS, BATCH_NORM_KERNELS, POOL_KERNELS, WEIGHTED_SUM_KERNELS } from '@adl/backend';
