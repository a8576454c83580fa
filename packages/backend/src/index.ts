export type { ConvGeometry, Kernels, RunningUpdate } from './kernels.js';
export { convOutputLength, assertSamePadding } from './kernels.js';
export { kernelsFor, kernelSet, kernelSetNames, registerKernelSet } from './kernel-sets.js';
export { portableKernels } from './portable-kernels.js';
export { stockKernels } from './stock-kernels.js';
export { nativeKernels } from './native-kernels.js';
export { webgpuKernels } from './webgpu-kernels.js';
export { FILTER_GRADIENT_ROWS } from './webgpu-conv-gradients.js';
export { normaliseWithElementwiseOps, type AffineBatchNorm, type BatchStatistics } from './batch-statistics.js';
export { edgeWeightedSumOfElementwiseOps, weightedSumOfElementwiseOps, type SumWeights } from './weighted-sum.js';
export { matMul } from './mat-mul.js';
export { AFFINE_BATCH_NORM_KERNELS, BATCH_NORM_KERNELS, CROSS_ENTROPY_KERNELS, EDGE_WEIGHTED_SUM_KERNELS, POOL_KERNELS, RELU_GRAD_KERNEL, RESAMPLE_KERNEL, WEIGHTED_SUM_KERNELS, registerFusedGradients, weightedSumInputs } from './fused-kernels.js';
export {
  BACKENDS,
  BACKEND_CHOICES,
  BackendError,
  selectBackend,
  silenceCpuBanner,
  type BackendAttempt,
  type BackendChoice,
  type BackendChoiceName,
  type BackendName,
  type SelectBackendOptions,
} from './select-backend.js';
export { OPTIMIZER_KERNELS, sgdMomentumUpdate, sgdMomentumUpdates, adamUpdate, type SgdMomentumHyper, type AdamHyper } from './optimizer-updates.js';
export { Rng } from './rng.js';
export { catchGpuErrors } from './gpu-errors.js';
export { releaseShapeOnlySaves } from './shape-only-saves.js';
export { shareSavedTensors } from './saved-tensors.js';
export { withoutTape } from './without-tape.js';
export { gpuDeviceFiles } from './gpu-device-files.js';
export { formatProbe, perThreadLoop, probeWebGpu, type DispatchProbe, type DispatchProbeOptions, type ProbeCounts, type ProgramStats } from './webgpu-probe.js';
