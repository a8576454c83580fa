import * as tf from '@tensorflow/tfjs';
import { type ForwardContext } from '@adl/ops';
import { kernelsFor, Rng } from '@adl/backend';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchedCellValues, SearchCell } from './search-cell.js';

const ctx = (training = true): ForwardContext => ({ training, kernels: kernelsFor(tf.getBackend()) });
const random = (shape: number[], seed: number) => tf.tensor<tf.Rank>(new Rng(seed).normalArray(shape.reduce((a, b) => a * b, 1)), shape) as tf.Tensor4D;
const maxAbs = (t: tf.Tensor) => tf.max(tf.abs(t)).dataSync()[0];

describe.each(['cpu', 'wasm'])('edges batched by state on %s', (backend) => {
  beforeAll(async () => {
    await tf.setBackend(backend);
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it.each([false, true])('equal the per-edge cell: output, every gradient, running statistics, inference (recompute %s)', (recompute) => {
    const options = { prevPrevChannels: 5, prevChannels: 6, channels: 4, recompute };
    const perEdge = new SearchCell({ ...options, rng: new Rng(21), batchEdges: false });
    const batched = new SearchCell({ ...options, rng: new Rng(21) });
    expect(perEdge.edges).toHaveLength(20);
    expect(batched.stateEdges.map((group) => group.count)).toEqual([5, 5, 4, 3, 2, 1]);
    // Same seed, same network: the batched layout is built from the per-edge one.
    const initial = batchedCellValues(perEdge, batched, perEdge.trainableVariables(), 'trainableVariables');
    batched.trainableVariables().forEach((v, i) => expect(tf.util.arraysEqual(v.dataSync(), initial[i].dataSync())).toBe(true));
    tf.dispose(initial);
    expect(batched.cost([7, 5])).toEqual(perEdge.cost([7, 5]));
    expect(batched.trainableVariables().reduce((n, v) => n + v.size, 0)).toBe(perEdge.trainableVariables().reduce((n, v) => n + v.size, 0));

    const alpha = tf.variable(random([20, 8], 22), true);
    const [hPrevPrev, hPrev, target] = [random([2, 7, 5, 5], 23), random([2, 7, 5, 6], 24), random([2, 7, 5, 20], 25)];
    const gradients = (cell: SearchCell) => {
      const variables = [alpha, ...cell.trainableVariables()];
      const { value, grads } = tf.variableGrads(() => {
        const rows = tf.unstack(tf.softmax(alpha)) as tf.Tensor1D[];
        return tf.sum(tf.mul(cell.apply(hPrevPrev, hPrev, rows, ctx()), target)) as tf.Scalar;
      }, variables);
      return { value, grads: variables.map((v) => grads[v.name]) };
    };
    const a = gradients(perEdge);
    const b = gradients(batched);
    const scale = Math.abs(a.value.dataSync()[0]);
    expect(Math.abs(b.value.dataSync()[0] - a.value.dataSync()[0])).toBeLessThan(1e-5 * scale);
    expect(maxAbs(tf.sub(a.grads[0], b.grads[0]))).toBeLessThan(1e-4 * maxAbs(a.grads[0]));
    const weightGrads = batchedCellValues(perEdge, batched, a.grads.slice(1), 'trainableVariables');
    weightGrads.forEach((g, i) => expect(maxAbs(tf.sub(g, b.grads[i + 1]))).toBeLessThan(1e-4 * Math.max(maxAbs(g), 1e-3)));

    const running = batchedCellValues(perEdge, batched, perEdge.stateVariables(), 'stateVariables');
    running.forEach((r, i) => expect(maxAbs(tf.sub(r, batched.stateVariables()[i]))).toBeLessThan(1e-5 * Math.max(maxAbs(r), 1)));
    tf.tidy(() => {
      const rows = tf.unstack(tf.softmax(alpha)) as tf.Tensor1D[];
      const expected = perEdge.apply(hPrevPrev, hPrev, rows, ctx(false));
      expect(maxAbs(tf.sub(batched.apply(hPrevPrev, hPrev, rows, ctx(false)), expected))).toBeLessThan(1e-5 * maxAbs(expected));
    });
    tf.dispose([alpha, hPrevPrev, hPrev, target, a.value, b.value, ...a.grads, ...b.grads, ...weightGrads, ...running]);
    perEdge.dispose();
    batched.dispose();
  });

  it('a partial-channel search keeps one mixed op per edge', () => {
    const cell = new SearchCell({ prevPrevChannels: 4, prevChannels: 4, channels: 4, rng: new Rng(1), partialChannels: 2 });
    expect(cell.edges).toHaveLength(20);
    expect(cell.stateEdges).toHaveLength(0);
    cell.dispose();
  });

  it('building and disposing leaves no tensor behind', () => {
    const before = tf.memory().numTensors;
    new SearchCell({ prevPrevChannels: 3, prevChannels: 3, channels: 2, rng: new Rng(0) }).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
