import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { kernelsFor } from '@adl/backend';
import { webGpuForTests } from '@adl/backend/test';
import { afterAll, describe, expect, it } from 'vitest';
import { onnxAgainstNet } from './onnx-logits.js';
import { runQuickstart } from './run-quickstart.js';
import { QUICKSTART_SETTINGS } from './settings.js';

// The whole demo on the WebGPU backend (the software adapter in CI), its ONNX export included: the
// export reads the weights asynchronously, as WebGPU in Node cannot read synchronously.
const webgpu = await webGpuForTests();
const outDir = await mkdtemp(join(tmpdir(), 'adl-quickstart-webgpu-'));
afterAll(() => rm(outDir, { recursive: true, force: true }));

describe.runIf(webgpu.device)('quickstart (tiny sizes) on webgpu', () => {
  it('runs every step, the export included, and model.onnx gives the net\'s logits in ONNX Runtime', async () => {
    const previous = process.env.ADL_BACKEND;
    process.env.ADL_BACKEND = 'webgpu';
    try {
      await runQuickstart(QUICKSTART_SETTINGS.tiny, outDir, { progress: false, log: () => {} });
      expect(JSON.parse(await readFile(join(outDir, 'summary.json'), 'utf8')).backend).toBe('webgpu');
      const { height, width } = QUICKSTART_SETTINGS.tiny.images;
      const { difference, scale } = await onnxAgainstNet(outDir, height, width, kernelsFor('webgpu'));
      console.log(`quickstart on webgpu (${webgpu.device}): max |logit difference| from ONNX Runtime ${difference.toExponential(2)}, max |logit| ${scale.toFixed(1)}`);
      expect(difference).toBeLessThan(1e-4 * scale);
      expect(await readdir(outDir)).toEqual(expect.arrayContaining(['model.onnx', 'report.html', 'summary.json']));
    } finally {
      if (previous === undefined) delete process.env.ADL_BACKEND;
      else process.env.ADL_BACKEND = previous;
      await tf.setBackend('cpu');
    }
  });
});
