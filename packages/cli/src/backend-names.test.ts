import { BACKEND_CHOICES } from '@adl/backend';
import { parseRetrainConfig, parseSearchConfig } from '@adl/search';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TEST_BACKENDS } from '@adl/backend/test';
import { describe, expect, it } from 'vitest';
import { EvalConfigSchema } from './eval-command.js';
import { errorsOf } from './test-program.js';

describe('backend names', () => {
  it('search, retrain and eval configs take every backend selectBackend knows, onednn included', () => {
    for (const backend of BACKEND_CHOICES) {
      expect(parseSearchConfig({ dataRoot: 'd', outDir: 'o', backend }).backend).toBe(backend);
      expect(parseRetrainConfig({ dataRoot: 'd', outDir: 'o', architecture: 'autodeeplab-s', backend }).backend).toBe(backend);
      expect(EvalConfigSchema.parse({ checkpoint: 'c', dataRoot: 'd', backend }).backend).toBe(backend);
    }
    expect(() => parseSearchConfig({ dataRoot: 'd', outDir: 'o', backend: 'cuda' }, 'search.json')).toThrow(/^search\.json: backend: /);
  });

  it('--backend takes onednn and refuses an unknown name with the list', async () => {
    expect(await errorsOf('eval', '--backend', 'cuda', '--checkpoint', 'c', '--data', 'd')).toMatch(/expected one of auto, node-gpu, node, webgpu, onednn, wasm, cpu/);
    expect(await errorsOf('eval', '--backend', 'onednn', '--checkpoint', '/nonexistent', '--data', '/nonexistent')).not.toMatch(/expected one of/);
  });

  it.runIf(TEST_BACKENDS.includes('onednn'))('a fresh process selects onednn through the built @adl/search, ESM and CJS (the addon package is not bundled into it)', () => {
    const cwd = fileURLToPath(new URL('..', import.meta.url));
    const esm = "import('@adl/search').then((m) => m.selectInstalledBackend({ backend: 'onednn', log: null })).then((c) => console.log(c.backend))";
    const cjs = "require('@adl/search').selectInstalledBackend({ backend: 'onednn', log: null }).then((c) => console.log(c.backend))";
    for (const script of [esm, cjs]) expect(execFileSync(process.execPath, ['-e', script], { cwd, encoding: 'utf8' }).trim()).toBe('onednn');
  });

  it("a fresh process that selects a backend prints only the selector's line, not tfjs's install-our-node-backend banner", () => {
    const cwd = fileURLToPath(new URL('..', import.meta.url));
    for (const backend of ['cpu', ...(TEST_BACKENDS.includes('onednn') ? ['onednn'] : [])]) {
      const script = `import('@adl/search').then((m) => m.selectInstalledBackend({ backend: '${backend}' })).then(async () => (await import('@tensorflow/tfjs')).tensor([1, 2]).add(1).dataSync())`;
      const run = spawnSync(process.execPath, ['-e', script], { cwd, encoding: 'utf8' });
      expect(run.stderr.trim()).toBe(`[adl] backend ${backend}, ${backend === 'cpu' ? 'portable' : backend} kernels`);
    }
  });
});
