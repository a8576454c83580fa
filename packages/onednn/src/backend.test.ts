import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { RELU_GRAD_KERNEL } from '@adl/backend';
import { seededTensor } from '@adl/backend/test';

/** The same computation on the cpu backend and on onednn, as plain arrays. */
async function onBoth(compute: () => tf.Tensor | tf.Tensor[]): Promise<[number[][], number[][]]> {
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    const result = tf.tidy(compute);
    const list = Array.isArray(result) ? result : [result];
    const arrays = list.map((t) => [...t.shape, -1, ...t.dataSync()]);
    tf.dispose(list);
    return arrays;
  };
  const cpu = await run('cpu');
  const onednn = await run('onednn');
  await tf.setBackend('cpu');
  return [cpu, onednn];
}

function expectSame([cpu, onednn]: [number[][], number[][]], tolerance = 1e-5): void {
  expect(onednn.length).toBe(cpu.length);
  cpu.forEach((expected, i) => {
    expect(onednn[i].length).toBe(expected.length);
    expected.forEach((v, j) => expect(Math.abs(onednn[i][j] - v)).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(v))));
  });
}

// Fresh tensors on whichever backend is current.
const x4 = () => seededTensor([2, 5, 6, 3], 1);
const y4 = () => seededTensor([2, 5, 6, 3], 2);

describe.runIf(tf.findBackendFactory('onednn'))('onednn backend kernels equal the cpu backend', () => {
  it.each([
    ['add', tf.add],
    ['sub', tf.sub],
    ['mul', tf.mul],
    ['div', tf.div],
    ['maximum', tf.maximum],
    ['minimum', tf.minimum],
    ['squaredDifference', tf.squaredDifference],
  ] as const)('%s, same shapes and broadcast either way', async (_name, op) => {
    expectSame(
      await onBoth(() => [
        op(x4(), y4()),
        op(x4(), seededTensor([3], 3)),
        op(seededTensor([1, 5, 1, 3], 4), x4()),
        op(seededTensor([6, 1], 5), seededTensor([2, 1, 1, 4], 6)),
        op(x4(), tf.scalar(0.7)),
        op(tf.scalar(-0.2), x4()),
      ]),
    );
  });

  it('sum, mean, max and min over every axis set, keeping dims or not', async () => {
    expectSame(
      await onBoth(() =>
        [undefined, 0, 3, [0, 1, 2], [1, 3], -1].flatMap((axis) => [
          tf.sum(x4(), axis),
          tf.mean(x4(), axis, true),
          tf.max(x4(), axis),
          tf.min(x4(), axis, true),
          tf.logSumExp(x4(), axis),
        ]),
      ),
    );
  });

  it('concat along every axis, with an empty input and a single one', async () => {
    const [cpu, onednn] = await onBoth(() => [
      tf.concat([x4(), y4()], 3),
      tf.concat([x4(), tf.slice(y4(), [0, 0, 0, 0], [2, 5, 6, 1]), x4()], -1),
      tf.concat([x4(), y4()], 0),
      tf.concat([x4(), tf.slice(y4(), [0, 0, 0, 0], [2, 2, 6, 3])], 1),
      tf.concat([x4(), y4()], 2),
      tf.concat([x4(), tf.zeros([2, 5, 0, 3]), y4()], 2),
      tf.concat([tf.reshape(x4(), [-1]), tf.tensor1d([1, 2])]),
    ]);
    expect(onednn).toEqual(cpu);
  });

  it('slice, pad, transpose', async () => {
    expectSame(
      await onBoth(() => [
        tf.slice(x4(), [0, 1, 2, 0], [-1, 3, 2, 2]),
        tf.slice(x4(), [1, 0, 0, 0], [1, -1, -1, -1]),
        tf.pad(x4(), [[0, 0], [1, 2], [0, 3], [0, 0]]),
        tf.pad(x4(), [[1, 0], [0, 0], [2, 1], [1, 1]], -1.5),
        tf.transpose(x4(), [3, 1, 2, 0]),
        tf.transpose(x4(), [0, 3, 1, 2]),
        tf.transpose(seededTensor([4, 7], 7)),
        ...tf.split(x4(), [1, 3, 1], 1),
        ...tf.split(x4(), 3, 3),
        ...tf.split(x4(), 2, 0),
      ]),
    );
  });

  it('reverse along any axes, softmax over the last axis (and its gradient)', async () => {
    expectSame(await onBoth(() => [tf.reverse(x4(), 2), tf.reverse(x4(), [0, 3]), tf.reverse(x4(), [-1]), tf.reverse(tf.reshape(x4(), [-1]))]));
    expectSame(await onBoth(() => [tf.softmax(tf.mul(x4(), 30)), tf.softmax(tf.reshape(x4(), [12, 15]))]));
    expectSame(await onBoth(() => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.softmax(t), y4())))(x4())));
  });

  it('tensors with a 0 in their shape, through every strided kernel', async () => {
    const empty = () => tf.tensor3d([], [0, 0, 5]);
    const [cpu, onednn] = await onBoth(() => [
      tf.add(tf.tensor1d([1]), empty()),
      tf.mul(empty(), tf.scalar(2)),
      tf.addN([empty(), empty()]),
      tf.relu(empty()),
      tf.sum(tf.tensor2d([], [0, 3]), 0),
      tf.slice(x4(), [0, 0, 0, 0], [2, 0, 6, 3]),
      tf.concat([tf.tensor2d([], [0, 3]), tf.tensor2d([1, 2, 3], [1, 3])]),
      tf.pad(tf.tensor2d([], [0, 3]), [[1, 1], [0, 0]], 4),
      tf.transpose(tf.tensor2d([], [0, 3])),
      tf.reverse(tf.tensor2d([], [0, 3]), 0),
    ]);
    expect(onednn).toEqual(cpu);
  });

  it('batchNorm without offset, scale or both (2-D, 3-D, 4-D)', async () => {
    const mean = () => tf.tensor1d([0.5, -0.25, 1]);
    const variance = () => tf.tensor1d([1, 0.5, 2]);
    const shapes = [[10, 3], [2, 5, 3], [2, 5, 6, 3]];
    const x = (shape: number[]) => seededTensor(shape, 13);
    expectSame(
      await onBoth(() =>
        shapes.flatMap((shape) => [
          tf.batchNorm(x(shape), mean(), variance()),
          tf.batchNorm(x(shape), mean(), variance(), tf.tensor1d([0.1, 0.2, 0.3])),
          tf.batchNorm(x(shape), mean(), variance(), undefined, tf.tensor1d([2, 3, 4]), 1e-3),
        ]),
      ),
    );
  });

  it('conv2dTranspose to an output smaller than its input implies (tfjs reads the leading rows and columns)', async () => {
    const input = () => seededTensor([1, 8, 8, 8], 20);
    const filter = () => seededTensor([8, 8, 8, 8], 21);
    expectSame(await onBoth(() => tf.conv2dTranspose(input() as tf.Tensor4D, filter() as tf.Tensor4D, [1, 4, 4, 8], 1, 'same')));
  });

  it('ragged kernels, whose inputs include lists of tensors', async () => {
    const [cpu, onednn] = await onBoth(() => {
      const gathered = tf.raggedGather([tf.tensor1d([0, 3, 3, 7, 9], 'int32')], tf.tensor1d([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]), tf.tensor1d([3, 0, 2], 'int32'), 1);
      const partitions = [tf.scalar(4, 'int32'), tf.tensor1d([0, 0, 0, 2, 2, 2, 2, 3, 3], 'int32')];
      const dense = tf.raggedTensorToTensor([4, 4], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9], 1.5, partitions, ['FIRST_DIM_SIZE', 'VALUE_ROWIDS']);
      return [...gathered.outputNestedSplits, gathered.outputDenseValues, dense];
    });
    expect(onednn).toEqual(cpu);
  });

  it('concat refuses shapes that differ off the axis, as the cpu kernel does', async () => {
    await tf.setBackend('onednn');
    expect(() => tf.concat2d([tf.ones([2, 2]) as tf.Tensor2D, tf.ones([1, 2]) as tf.Tensor2D], 1)).toThrow(/does not match/);
    expect(() => tf.concat3d([tf.ones([1, 1, 3]) as tf.Tensor3D, tf.tensor3d([], [1, 0, 4])], 1)).toThrow(/does not match/);
    await tf.setBackend('cpu');
  });

  it('oneHot: in-range labels, negative and too-large labels, on/off values, a 2-D index tensor', async () => {
    const [cpu, onednn] = await onBoth(() => [
      tf.oneHot(tf.tensor1d([0, 3, 1, -1, 4, 255, 2], 'int32'), 4),
      tf.oneHot(tf.tensor2d([[2, 0], [1, 7]], [2, 2], 'int32'), 3, 0.9, 0.05),
    ]);
    expect(onednn).toEqual(cpu);
  });

  it('less and greaterEqual, same shape and broadcast', async () => {
    const [cpu, onednn] = await onBoth(() => [tf.less(x4(), y4()), tf.greaterEqual(x4(), y4()), tf.less(x4(), tf.scalar(0)), tf.greaterEqual(x4(), x4())]);
    expect(onednn).toEqual(cpu);
  });

  it('relu, step, square, exp, addN (NaN kept where the cpu backend keeps it; exp bit for bit, overflow and denormals too)', async () => {
    const withNaN = () => tf.concat([seededTensor([5], 8), tf.tensor1d([NaN, 0, -0])]);
    const extremes = () => tf.concat([tf.mul(x4().reshape([-1]), 20), tf.tensor1d([NaN, Infinity, -Infinity, 88.7, 89, -87, -100, -104, 1e-30])]);
    const [cpu, onednn] = await onBoth(() => [tf.relu(withNaN()), tf.step(withNaN()), tf.square(x4()), tf.exp(extremes()), tf.addN([x4(), y4(), x4()])]);
    expect(onednn.map((a) => a.map(String))).toEqual(cpu.map((a) => a.map(String)));
  });

  it('the ReLU gradient kernel equals Step then Multiply on cpu bit for bit (NaN, ±0, ±∞ in dy and y), and differentiates', async () => {
    const special = [NaN, 0, -0, Infinity, -Infinity, 1e-40, -1e-40];
    const dy = () => tf.concat([seededTensor([30], 9), tf.tensor1d(special), tf.tensor1d(special.map(() => -1.5)), tf.tensor1d(special)]);
    const y = () => tf.concat([seededTensor([30], 10), tf.tensor1d(special.map(() => 2)), tf.tensor1d(special), tf.tensor1d([...special].reverse())]);
    const fused = (a: tf.Tensor, b: tf.Tensor) => tf.engine().runKernel(RELU_GRAD_KERNEL, { dy: a, y: b }, {}) as tf.Tensor;
    const [cpu] = await onBoth(() => tf.mul(dy(), tf.step(y())));
    await tf.setBackend('onednn');
    const [onednn] = tf.tidy(() => [[...fused(dy(), y()).dataSync()]]);
    const bits = (values: number[]) => values.map((v) => (Object.is(v, -0) ? '-0' : String(v)));
    expect(bits([-1, ...onednn])).toEqual(bits(cpu[0].slice(1)));
    // d/d(dy) Σ w · (dy · step(y)) = w · step(y); nothing flows to y.
    const [gradDy, gradY] = tf.tidy(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(fused(a, b), seededTensor([3, 4], 11))))([seededTensor([3, 4], 12), seededTensor([3, 4], 13)]).map((g) => [...g.dataSync()]));
    const expected = tf.tidy(() => [...tf.mul(seededTensor([3, 4], 11), tf.step(seededTensor([3, 4], 13))).dataSync()]);
    expect(gradDy).toEqual(expected);
    expect(gradY).toEqual(new Array(12).fill(0));
    expect(() => fused(tf.ones([2, 3]), tf.ones([3, 2]))).toThrow('AdlReluGrad: dy 2,3 and y 3,2 differ');
    await tf.setBackend('cpu');
  });

  it('batched matMul with transposes and a broadcast batch', async () => {
    expectSame(
      await onBoth(() => [
        tf.matMul(seededTensor([3, 4, 5], 9), seededTensor([3, 5, 2], 10)),
        tf.matMul(seededTensor([3, 5, 4], 9), seededTensor([3, 2, 5], 10), true, true),
        tf.matMul(seededTensor([4, 5], 9), seededTensor([2, 3, 5, 6], 10)),
        tf.matMul(seededTensor([2, 3, 4, 5], 9), seededTensor([5, 6], 10)),
      ]),
    );
  });

  it('conv2d and depthwiseConv2d forward (strided, "same", "valid") and their tfjs gradients', async () => {
    const f = () => seededTensor([3, 3, 3, 4], 11);
    const fd = () => seededTensor([3, 3, 3, 2], 12);
    expectSame(
      await onBoth(() => [
        tf.conv2d(x4() as tf.Tensor4D, f() as tf.Tensor4D, 2, 'same'),
        tf.conv2d(x4() as tf.Tensor4D, f() as tf.Tensor4D, 1, 'valid', 'NHWC', 2),
        tf.depthwiseConv2d(x4() as tf.Tensor4D, fd() as tf.Tensor4D, 2, 'same'),
        ...tf.grads((x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 'same')))([x4(), f()]),
        ...tf.grads((x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same')))([x4(), fd()]),
      ]),
      1e-4,
    );
  });

  it('reads float32 tensors cast from bool and int32 (the cpu backend keeps their arrays)', async () => {
    expectSame(
      await onBoth(() => [
        tf.mul(tf.cast(tf.greater(x4(), 0), 'float32'), y4()),
        tf.add(tf.cast(tf.tensor1d([1, 2, 3], 'int32'), 'float32'), tf.scalar(0.5)),
        tf.sum(tf.cast(tf.less(x4(), 0), 'float32'), 0),
      ]),
    );
  });

  it('leaves int32 work to the cpu kernels', async () => {
    expectSame(await onBoth(() => [tf.add(tf.tensor1d([1, 2], 'int32'), tf.tensor1d([3, 4], 'int32')), tf.sum(tf.tensor2d([[1, 2]], [1, 2], 'int32'))]));
  });
});
