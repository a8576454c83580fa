import { afterAll, beforeAll, describe, it } from 'vitest';
import { kernelsFor } from './kernel-sets.js';
import { useBackend } from './testing/backends.js';
import { kernelConformanceCases } from './testing/kernel-conformance.js';
import { webGpuForTests } from './testing/webgpu.js';

// The kernel set WebGPU runs with, against the cpu backend's values and finite differences.
const webgpu = await webGpuForTests();

describe.runIf(webgpu.device)('kernels on webgpu', () => {
  beforeAll(() => useBackend('webgpu'));
  afterAll(() => useBackend('cpu'));
  const kernels = kernelsFor('webgpu');
  describe(kernels.name, () => {
    for (const { name, run } of kernelConformanceCases(kernels, 'webgpu')) it(name, run);
  });
});
