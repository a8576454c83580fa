export { PRIMITIVES, isOpName, type OpName } from './primitives.js';
export { OPS, createOp, ATROUS_RATE, type OpFactory, type OpMode, type OpOptions } from './ops-table.js';
export { Rng } from './rng.js';
export { newVariable } from './new-variable.js';
export { maybeRecompute, recompute } from './recompute.js';
export { Sequential, addCosts, convCost, ZERO_COST, type Cost, type ForwardContext, type Layer, type Size } from './layer.js';
export { convOutputLength, type ConvGeometry, type KernelSetName, type Kernels } from './kernels.js';
export { portableKernels } from './portable-kernels.js';
export { stockKernels } from './stock-kernels.js';
export { nativeKernels } from './native-kernels.js';
export { onednnKernels } from './onednn-kernels.js';
export { ONEDNN_BACKEND, registerOneDnnBackend, type OneDnnBinding } from './onednn-backend.js';
export { Conv2d, DepthwiseConv2d, heNormal, type Conv2dOptions } from './conv2d.js';
export { BatchNorm, type BatchNormOptions } from './batch-norm.js';
export { ConvBnRelu, ReluConvBn, type ConvBlockOptions } from './conv-blocks.js';
export { SepConv, type SepConvOptions } from './sep-conv.js';
export { SeparableConvBnRelu, type SeparableConvBnReluOptions } from './separable-conv-bn-relu.js';
export { AvgPool3x3, Identity, MaxPool3x3, Relu, StatelessLayer, Zero } from './simple-layers.js';
export { halfSize, subsample2, Subsample2 } from './subsample.js';
export {
  BilinearHalf,
  Downsample,
  FactorizedReduce,
  UpsampleConv,
  finerSize,
  type ResampleOptions,
} from './resample.js';
export {
  DeepLabV3Aspp,
  ImagePooling,
  SearchAspp,
  searchAsppRate,
  type DeepLabV3AsppOptions,
  type SearchAsppOptions,
} from './aspp.js';
export { bilinearMatrix, resizeBilinear, separableResample } from './resize-bilinear.js';
export { Stem, STEM_CHANNELS, type StemOutputs } from './stem.js';
export {
  BACKENDS,
  BACKEND_CHOICES,
  BackendError,
  kernelSet,
  kernelsFor,
  selectBackend,
  type BackendAttempt,
  type BackendChoice,
  type BackendName,
  type BackendChoiceName,
  type SelectBackendOptions,
} from './backend.js';
export { sgdMomentumUpdate, adamUpdate, type SgdMomentumHyper, type AdamHyper } from './optimizer-updates.js';
export type { BatchStatistics } from './batch-statistics.js';
export type { SumWeights } from './weighted-sum.js';
