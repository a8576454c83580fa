import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Rng } from '@adl/backend';
import { crossEntropyIgnoring } from './cross-entropy.js';

const logits = () => tf.tensor4d([1, 2, 0.5, -1, 0, 3, 2, 2, 2, 0.25, -0.5, 1.5], [1, 2, 2, 3]);
const labels = () => tf.tensor3d([2, 255, 0, 1], [1, 2, 2], 'int32');

/** The same loss written out with autodiff (what the custom gradient replaces). */
function autodiffLoss(x: tf.Tensor4D, y: tf.Tensor3D): tf.Scalar {
  const valid = tf.cast(tf.notEqual(y, 255), 'float32');
  const picked = tf.sum(tf.mul(tf.oneHot(tf.mul(y, tf.cast(valid, 'int32')) as tf.Tensor3D, x.shape[3]), tf.logSoftmax(x)), 3);
  return tf.div(tf.neg(tf.sum(tf.mul(picked, valid))), tf.maximum(tf.sum(valid), 1)) as tf.Scalar;
}

describe('crossEntropyIgnoring', () => {
  it('averages −log p(label) over the pixels not labelled 255 (hand-computed)', () => {
    const rows = [
      [1, 2, 0.5],
      [-1, 0, 3],
      [2, 2, 2],
      [0.25, -0.5, 1.5],
    ];
    const nll = (row: number[], label: number) => Math.log(row.reduce((s, v) => s + Math.exp(v), 0)) - row[label];
    const expected = (nll(rows[0], 2) + nll(rows[2], 0) + nll(rows[3], 1)) / 3;
    expect(crossEntropyIgnoring(logits(), labels()).dataSync()[0]).toBeCloseTo(expected, 6);
  });

  it('is 0 (not NaN) when every pixel is ignored', () => {
    const value = crossEntropyIgnoring(logits(), tf.fill([1, 2, 2], 255, 'int32') as tf.Tensor3D);
    expect(Math.abs(value.dataSync()[0])).toBe(0);
  });

  it('has the gradient of the autodiff formulation, and of finite differences', () => {
    const x = logits();
    const y = labels();
    const ours = tf.grad((v: tf.Tensor) => crossEntropyIgnoring(v as tf.Tensor4D, y))(x).arraySync() as number[][][][];
    const autodiff = tf.grad((v: tf.Tensor) => autodiffLoss(v as tf.Tensor4D, y))(x).dataSync();
    expect(Array.from(tf.tensor(ours).dataSync()).map((v, i) => Math.abs(v - autodiff[i])).every((d) => d < 1e-6)).toBe(true);
    const values = Array.from(x.dataSync());
    const h = 1e-2;
    const at = (i: number, delta: number) => {
      const moved = values.slice();
      moved[i] += delta;
      return crossEntropyIgnoring(tf.tensor4d(moved, x.shape as [number, number, number, number]), y).dataSync()[0];
    };
    const gradient = Array.from(tf.tensor(ours).dataSync());
    values.forEach((_, i) => expect(gradient[i]).toBeCloseTo((at(i, h) - at(i, -h)) / (2 * h), 3));
    // The ignored pixel (second) gets no gradient.
    expect(ours[0][0][1].map(Math.abs)).toEqual([0, 0, 0]);
  });

  it('keeps only its inputs for the backward pass and leaves no tensor behind', () => {
    const x = tf.variable(logits());
    const y = labels();
    const before = tf.memory().numTensors;
    let saved = -1;
    const { value, grads } = tf.variableGrads(() => {
      const loss = crossEntropyIgnoring(x as unknown as tf.Tensor4D, y);
      const tape = (tf.engine().state as unknown as { activeTape: { saved?: tf.Tensor[] }[] }).activeTape;
      saved = tape.reduce((n, node) => n + (node.saved?.length ?? 0), 0);
      return loss;
    }, [x]);
    expect(saved).toBe(2);
    tf.dispose([value, grads]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe.runIf(tf.findBackendFactory('onednn'))('crossEntropyIgnoring on onednn (one kernel each way)', () => {
  it('has the value and gradient of the tfjs-op form on cpu: ignored pixels, labels out of range, a batch all ignored', async () => {
    const rng = new Rng(7);
    const shape: [number, number, number, number] = [2, 5, 7, 19];
    const logitValues = rng.normalArray(2 * 5 * 7 * 19).map((v) => 4 * v);
    const labelCases = [
      Array.from({ length: 70 }, (_, i) => (i % 9 === 0 ? 255 : i % 11 === 0 ? 19 : i % 13 === 0 ? -3 : Math.floor(rng.next() * 19))),
      new Array<number>(70).fill(255),
    ];
    // [loss, ...gradient] per label case.
    const run = async (backend: string) => {
      await tf.setBackend(backend);
      return labelCases.map((labelValues) =>
        tf.tidy(() => {
          const x = tf.tensor4d(logitValues, shape);
          const y = tf.tensor3d(labelValues, [2, 5, 7], 'int32');
          const gradient = tf.grad((v: tf.Tensor) => crossEntropyIgnoring(v as tf.Tensor4D, y))(x);
          return [crossEntropyIgnoring(x, y).dataSync()[0], ...gradient.dataSync()];
        }),
      );
    };
    const cpu = await run('cpu');
    const onednn = await run('onednn');
    await tf.setBackend('cpu');
    cpu.forEach((expected, c) => expected.forEach((v, i) => expect(Math.abs(onednn[c][i] - v), `case ${c}, element ${i}`).toBeLessThanOrEqual(2e-6 * Math.max(1, Math.abs(v)))));
    expect(onednn[1].every((v) => v === 0)).toBe(true);
  });

  it('keeps the tensor count flat over training steps on onednn', async () => {
    await tf.setBackend('onednn');
    const x = tf.variable(tf.tensor4d(new Rng(8).normalArray(2 * 3 * 4 * 5), [2, 3, 4, 5]));
    const y = tf.tensor3d([0, 1, 2, 3, 4, 255, 0, 1, 2, 3, 4, 255, 0, 1, 2, 3, 4, 255, 0, 1, 2, 3, 4, 255], [2, 3, 4], 'int32');
    const step = () => tf.dispose(tf.variableGrads(() => crossEntropyIgnoring(x as unknown as tf.Tensor4D, y), [x]));
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
    await tf.setBackend('cpu');
  });
});
