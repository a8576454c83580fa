/** Test helpers for code built on tfjs and these kernel sets, runner-agnostic (they throw on failure). */
export { expectNoLeakedTensors } from './testing/leaks.js';
export { checkGradients, type GradientCheckOptions, type GradientCheckResult } from './testing/gradient-check.js';
export { useFastestTestBackend } from './testing/fastest-backend.js';
export { TEST_BACKENDS, useBackend, seededTensor } from './testing/backends.js';
export { kernelConformanceCases, type KernelCase } from './testing/kernel-conformance.js';
export { webGpuForTests, type WebGpuForTests } from './testing/webgpu.js';
export { sgdUpdatesAgainstOneAtATime } from './testing/optimizer-reference.js';
