import { webGpuForTests } from '@adl/backend/test';
import { describe, expect, it } from 'vitest';
import { runSuite, SUITE_TIMEOUT_MS, type SuiteTotals } from './tfjs-core-suite.js';

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

describe("tfjs-core's published kernel tests", () => {
  it('fail on webgpu only where tfjs-backend-webgpu itself does', async () => {
    const webgpu = await webGpuForTests();
    if (!webgpu.device) return;
    const totals = await runSuite('webgpu');
    const unexpected = totals.failures.filter(({ spec }) => !Object.keys(WEBGPU_UPSTREAM_FAILURES).some((name) => spec.startsWith(`${name} `)));
    expect(byDescribe(totals), JSON.stringify(unexpected, null, 1)).toEqual(WEBGPU_UPSTREAM_FAILURES);
  }, SUITE_TIMEOUT_MS);
});
