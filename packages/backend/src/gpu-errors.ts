import * as tf from '@tensorflow/tfjs';

interface GpuErrorScopes {
  pushErrorScope(filter: 'validation' | 'out-of-memory'): void;
  popErrorScope(): Promise<{ message: string } | null>;
}

/** The parts of tfjs-backend-webgpu's backend used here. */
interface WebGpuQueue {
  readonly device: GpuErrorScopes;
  readonly commandEncoder: object | null;
  endComputePassEncoder(): void;
  submitQueue(): void;
}

/**
 * Starts catching the WebGPU errors of the work that follows; the returned function ends the catch
 * and resolves to the first error's message, or null. A WebGPU validation error (an invalid shader
 * or bind group) or out-of-memory error does not throw: the dispatch writes nothing and the run goes
 * on with wrong values, with only a line on stderr. Elsewhere this is a no-op that resolves to null.
 */
export function catchGpuErrors(): () => Promise<string | null> {
  const backend = tf.getBackend() === 'webgpu' ? (tf.backend() as unknown as WebGpuQueue) : undefined;
  if (!backend) return async () => null;
  const { device } = backend;
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  return async () => {
    // tfjs records dispatches into one open compute pass and submits in batches: end the pass and
    // submit now (as its reads do), so every dispatch is inside the scope.
    if (backend.commandEncoder) {
      backend.endComputePassEncoder();
      backend.submitQueue();
    }
    const validation = await device.popErrorScope();
    const memory = await device.popErrorScope();
    const error = validation ?? memory;
    return error ? String(error.message).split('\n')[0] : null;
  };
}
