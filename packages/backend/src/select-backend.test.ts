import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { registerKernelSet } from './kernel-sets.js';
import { portableKernels } from './portable-kernels.js';
import { BACKEND_CHOICES, BACKENDS, BackendError, selectBackend } from './select-backend.js';

describe('selectBackend', () => {
  afterEach(async () => {
    delete process.env.ADL_BACKEND;
    delete process.env.ADL_KERNELS;
    await tf.setBackend('cpu');
  });

  it('tries node-gpu, node, webgpu, onednn, wasm, cpu in that order; configs may name any of them or auto', () => {
    expect(BACKENDS).toEqual(['node-gpu', 'node', 'webgpu', 'onednn', 'wasm', 'cpu']);
    expect(BACKEND_CHOICES).toEqual(['auto', ...BACKENDS]);
  });

  it('auto takes the first backend that loads and says why each earlier one was skipped', async () => {
    const lines: string[] = [];
    const choice = await selectBackend({ log: (line) => lines.push(line) });
    const index = BACKENDS.indexOf(choice.backend);
    expect(choice.attempts.map((a) => a.backend)).toEqual(BACKENDS.slice(0, index + 1));
    expect(choice.attempts.slice(0, index).every((a) => !a.ok && a.reason.length > 0)).toBe(true);
    expect(tf.getBackend()).toBe(choice.tfjsBackend);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`backend ${choice.backend}`);
    for (const skipped of choice.attempts.slice(0, index)) expect(lines[0]).toContain(skipped.backend);
    // A second auto choice in the same process gives the same answer and the same reasons without probing again.
    const again = await selectBackend({ log: null });
    expect(again.backend).toBe(choice.backend);
    expect(again.attempts).toEqual(choice.attempts);
  });

  it('ADL_BACKEND forces a backend over the option', async () => {
    process.env.ADL_BACKEND = 'wasm';
    const choice = await selectBackend({ backend: 'cpu', log: null });
    expect(choice.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(choice.kernels.name).toBe('native');
  });

  it('ADL_KERNELS forces a kernel set', async () => {
    process.env.ADL_KERNELS = 'stock';
    expect((await selectBackend({ backend: 'cpu', log: null })).kernels.name).toBe('stock');
  });

  it('refuses a kernel set made for another backend, and names the sets it knows', async () => {
    registerKernelSet({ ...portableKernels, name: 'bound', backend: 'elsewhere' });
    process.env.ADL_KERNELS = 'bound';
    await expect(selectBackend({ backend: 'cpu', log: null })).rejects.toThrow(/bound kernels do not run on the cpu backend/);
    process.env.ADL_KERNELS = 'nope';
    await expect(selectBackend({ backend: 'cpu', log: null })).rejects.toThrow(/ADL_KERNELS="nope" is not one of auto, portable, stock, native/);
  });

  it('rejects an unknown ADL_BACKEND with the list of valid names', async () => {
    process.env.ADL_BACKEND = 'cuda';
    await expect(selectBackend({ log: null })).rejects.toThrow(/ADL_BACKEND="cuda" is not one of auto, node-gpu/);
  });

  it('fails loudly when a forced backend cannot load', async () => {
    await expect(selectBackend({ backend: 'node-gpu', log: null })).rejects.toBeInstanceOf(BackendError);
    await expect(selectBackend({ backend: 'node-gpu', log: null })).rejects.toThrow(/node-gpu: /);
  });

});
