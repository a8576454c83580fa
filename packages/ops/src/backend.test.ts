import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS, BackendError, kernelsFor, selectBackend } from './backend.js';

describe('selectBackend', () => {
  afterEach(async () => {
    delete process.env.ADL_BACKEND;
    delete process.env.ADL_KERNELS;
    await tf.setBackend('cpu');
  });

  it('tries node-gpu, node, webgpu, onednn, wasm, cpu in that order', () => {
    expect(BACKENDS).toEqual(['node-gpu', 'node', 'webgpu', 'onednn', 'wasm', 'cpu']);
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

  it('refuses the onednn kernels on another backend', async () => {
    process.env.ADL_KERNELS = 'onednn';
    await expect(selectBackend({ backend: 'cpu', log: null })).rejects.toThrow(/onednn kernels do not run on the cpu backend/);
  });

  it.runIf(tf.findBackendFactory('onednn'))('runs the onednn backend (where @adl/onednn is built) with the onednn kernels', async () => {
    const choice = await selectBackend({ backend: 'onednn', log: null });
    expect([choice.tfjsBackend, choice.kernels.name, tf.getBackend()]).toEqual(['onednn', 'onednn', 'onednn']);
  });

  it('rejects an unknown ADL_BACKEND with the list of valid names', async () => {
    process.env.ADL_BACKEND = 'cuda';
    await expect(selectBackend({ log: null })).rejects.toThrow(/ADL_BACKEND="cuda" is not one of auto, node-gpu/);
  });

  it('fails loudly when a forced backend cannot load', async () => {
    await expect(selectBackend({ backend: 'node-gpu', log: null })).rejects.toBeInstanceOf(BackendError);
    await expect(selectBackend({ backend: 'node-gpu', log: null })).rejects.toThrow(/node-gpu: /);
  });

  it('maps wasm to the native kernels, onednn to its own, cpu to the portable ones, native backends to the stock ones', () => {
    expect(kernelsFor('wasm').name).toBe('native');
    expect(kernelsFor('onednn').name).toBe('onednn');
    expect(kernelsFor('cpu').name).toBe('portable');
    expect(kernelsFor('tensorflow').name).toBe('stock');
    expect(kernelsFor('webgpu').name).toBe('stock');
  });
});
