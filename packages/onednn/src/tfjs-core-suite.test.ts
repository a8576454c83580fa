import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { webGpuForTests } from '@adl/backend/test';
import { describe, expect, it } from 'vitest';

interface SuiteTotals {
  backend: string;
  passed: number;
  failed: number;
  excluded: number;
  failures: { spec: string; message: string }[];
}

const runner = fileURLToPath(new URL('../scripts/tfjs-core-suite.mjs', import.meta.url));
const tsx = createRequire(import.meta.url).resolve('tsx/cli');

/** tfjs-core's kernel tests on `backend`, in a child process (the harness resets the engine and sets globals). */
function runSuite(backend: string): Promise<SuiteTotals> {
  const folder = mkdtempSync(join(tmpdir(), 'tfjs-core-suite-'));
  const json = join(folder, 'totals.json');
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [tsx, runner, '--backend', backend, '--json', json], { maxBuffer: 64 << 20 }, (error, stdout) => {
      try {
        const totals = JSON.parse(readFileSync(json, 'utf8')) as SuiteTotals;
        console.log(stdout.trim().split('\n').at(-1));
        resolve(totals);
      } catch {
        reject(error ?? new Error(`no totals from the ${backend} run:\n${stdout}`));
      } finally {
        rmSync(folder, { recursive: true, force: true });
      }
    });
  });
}

/** Failures of the webgpu backend itself (tfjs-backend-webgpu 4.22 on Dawn), by the tests' describe name; none is an op our layers use. */
const WEBGPU_UPSTREAM_FAILURES: Record<string, number> = {
  bitwiseAnd: 1, // kernel not registered
  'fromPixels, mock canvas': 2, // reads a browser canvas
  gather: 1, // an out-of-range index does not throw
  prod: 5, // keepDims shape and gradients
  raggedGather: 12, // kernel not registered
  raggedRange: 15, // kernel not registered
  raggedTensorToTensor: 14, // kernel not registered
  tan: 1, // input beyond float32 precision
  unique: 12, // kernel not registered
};

const byDescribe = (totals: SuiteTotals) => {
  const counts: Record<string, number> = {};
  for (const { spec } of totals.failures) {
    const name = spec.split(` ${totals.backend} {`)[0].trim();
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
};

// Each run takes 10–45 s alone; several minutes beside the other packages' tests on 2 cores.
const SUITE_TIMEOUT_MS = 600_000;

describe("tfjs-core's published kernel tests", () => {
  it.runIf(tf.findBackendFactory('onednn'))('pass on onednn as on the cpu backend it replaces: every spec, none excluded', async () => {
    const cpu = await runSuite('cpu');
    const onednn = await runSuite('onednn');
    expect(cpu.failed).toBe(0);
    expect(onednn.failures).toEqual([]);
    expect(onednn.passed).toBe(cpu.passed);
    expect(onednn.excluded).toBe(0);
  }, SUITE_TIMEOUT_MS);

  it('fail on webgpu only where tfjs-backend-webgpu itself does', async () => {
    const webgpu = await webGpuForTests();
    if (!webgpu.device) return;
    const totals = await runSuite('webgpu');
    const unexpected = totals.failures.filter(({ spec }) => !Object.keys(WEBGPU_UPSTREAM_FAILURES).some((name) => spec.startsWith(`${name} `)));
    expect(byDescribe(totals), JSON.stringify(unexpected, null, 1)).toEqual(WEBGPU_UPSTREAM_FAILURES);
  }, SUITE_TIMEOUT_MS);
});
