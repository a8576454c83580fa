import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { runSuite, SUITE_TIMEOUT_MS } from './tfjs-core-suite.js';

describe("tfjs-core's published kernel tests", () => {
  it.runIf(tf.findBackendFactory('onednn'))('pass on onednn as on the cpu backend it replaces: every spec, none excluded', async () => {
    const cpu = await runSuite('cpu');
    const onednn = await runSuite('onednn');
    expect(cpu.failed).toBe(0);
    expect(onednn.failures).toEqual([]);
    expect(onednn.passed).toBe(cpu.passed);
    expect(onednn.excluded).toBe(0);
  }, SUITE_TIMEOUT_MS);
});
