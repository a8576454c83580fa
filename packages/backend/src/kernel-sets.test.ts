import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kernelSet, kernelsFor, kernelSetNames, registerKernelSet } from './kernel-sets.js';
import type { Kernels } from './kernels.js';
import { nativeKernels } from './native-kernels.js';
import { portableKernels } from './portable-kernels.js';
import { stockKernels } from './stock-kernels.js';
import { TEST_BACKENDS, useBackend } from './testing/backends.js';
import { kernelConformanceCases } from './testing/kernel-conformance.js';

describe.each(TEST_BACKENDS)('kernels on %s', (backend) => {
  beforeAll(() => useBackend(backend));
  afterAll(() => useBackend('cpu'));
  // wasm has no conv backprop kernels for stock's gradients.
  const sets: Kernels[] = backend === 'wasm' ? [portableKernels, nativeKernels] : [portableKernels, stockKernels, nativeKernels];
  describe.each(sets.map((kernels) => [kernels.name, kernels] as const))('%s', (_name, kernels) => {
    for (const { name, run } of kernelConformanceCases(kernels, backend)) it(name, run);
  });
});

describe('kernel sets', () => {
  it('are chosen per backend: native on wasm, portable on cpu, stock elsewhere, a registered set on its own backend', () => {
    expect([kernelsFor('wasm'), kernelsFor('cpu'), kernelsFor('webgpu')]).toEqual([nativeKernels, portableKernels, stockKernels]);
    expect(kernelSetNames()).toEqual(expect.arrayContaining(['portable', 'stock', 'native']));
    const fused: Kernels = { ...portableKernels, name: 'fused-test', backend: 'fused-test-backend' };
    registerKernelSet(fused);
    expect(kernelsFor('fused-test-backend')).toBe(fused);
    expect(kernelSet('fused-test')).toBe(fused);
    expect(kernelSet('nope')).toBeUndefined();
  });
});
