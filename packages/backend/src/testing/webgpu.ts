import * as tf from '@tensorflow/tfjs';
import { memoryMapShortage, selectBackend } from '../select-backend.js';

/** Where the WebGPU test group runs: the adapter, or why the group is skipped. */
export interface WebGpuForTests {
  readonly device?: string;
  readonly skipped?: string;
}

/**
 * Loads the WebGPU backend on whatever adapter there is (a software one included) for a test group,
 * then makes cpu current again. Without an adapter the group is skipped and says why on the test
 * output, unless `ADL_REQUIRE_WEBGPU=1` (CI sets it), where that fails the file. Training on a
 * software adapter needs a high `vm.max_map_count` (see select-backend.ts); with the default the
 * group is skipped the same way rather than killed by SIGSEGV.
 */
export async function webGpuForTests(): Promise<WebGpuForTests> {
  let result: WebGpuForTests;
  try {
    const choice = await selectBackend({ backend: 'webgpu', log: null });
    if (choice.backend !== 'webgpu') throw new Error(`ADL_BACKEND=${process.env.ADL_BACKEND} overrides it`);
    const shortage = choice.softwareDevice ? memoryMapShortage() : undefined;
    if (shortage) throw new Error(shortage);
    result = { device: choice.device };
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    if (process.env.ADL_REQUIRE_WEBGPU === '1') throw new Error(`WebGPU required (ADL_REQUIRE_WEBGPU=1) but unusable: ${reason}`);
    result = { skipped: reason };
  }
  await tf.setBackend('cpu');
  console.log(result.device ? `WebGPU group on ${result.device}` : `WebGPU group skipped: ${result.skipped}`);
  return result;
}
