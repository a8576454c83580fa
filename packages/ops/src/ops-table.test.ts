import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ATROUS_RATE, OPS, createOp, type OpMode } from './ops-table.js';
import { portableKernels } from '@adl/backend';
import { isOpName, PRIMITIVES, type OpName } from './primitives.js';
import { Rng } from '@adl/backend';
import { seededTensor, TEST_BACKENDS, useBackend } from '@adl/backend/test';
import { trainingContext } from './testing/context.js';
import { checkGradients } from '@adl/backend/test';
import { expectNoLeakedTensors } from '@adl/backend/test';

describe('the search space table', () => {
  it('lists the 8 primitives of design §2 in DARTS order', () => {
    expect(PRIMITIVES).toEqual([
      'none',
      'max_pool_3x3',
      'avg_pool_3x3',
      'skip_connect',
      'sep_conv_3x3',
      'sep_conv_5x5',
      'atrous_conv_3x3',
      'atrous_conv_5x5',
    ]);
    expect(Object.keys(OPS)).toEqual([...PRIMITIVES]);
  });

  it('builds atrous ops as dense convs at rate 2', () => {
    expect(ATROUS_RATE).toBe(2);
  });

  it('knows its names', () => {
    expect(PRIMITIVES.every(isOpName)).toBe(true);
    expect(['dil_conv_3x3', 'Sep_conv_3x3', ''].some(isOpName)).toBe(false);
  });

  it('follows each pool by a BatchNorm without affine in search (DARTS); pools are bare in the retrain network', () => {
    for (const name of ['max_pool_3x3', 'avg_pool_3x3'] as const) {
      const searched = createOp(name, { channels: 3, mode: 'search', rng: new Rng(0) });
      const fixed = createOp(name, { channels: 3, mode: 'fixed', rng: new Rng(0) });
      expect([searched.trainableVariables().length, searched.stateVariables().length]).toEqual([0, 2]);
      expect([fixed.trainableVariables().length, fixed.stateVariables().length]).toEqual([0, 0]);
      const x = seededTensor([2, 5, 4, 3], 12, 3) as tf.Tensor4D;
      const ctx = { training: true, kernels: portableKernels };
      const [normalised, bare, pooled] = tf.tidy(() => [searched.apply(x, ctx), fixed.apply(x, ctx), ctx.kernels[name === 'max_pool_3x3' ? 'maxPool3x3' : 'avgPool3x3'](x)].map((t) => t.arraySync() as number[][][][]));
      expect(bare).toEqual(pooled);
      // In training, the search form has zero mean and unit variance per channel.
      const channel = (values: number[][][][], c: number) => values.flat(2).map((pixel) => pixel[c]);
      for (let c = 0; c < 3; c++) {
        const v = channel(normalised, c);
        const mean = v.reduce((a, b) => a + b, 0) / v.length;
        expect(mean).toBeCloseTo(0, 5);
        expect(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length).toBeCloseTo(1, 3);
      }
      tf.dispose(x);
      searched.dispose();
      fixed.dispose();
    }
  });

  it('a strided skip in search mode is a factorized reduce without affine BN', () => {
    const op = createOp('skip_connect', { channels: C, mode: 'search', rng: new Rng(0), stride: 2 });
    expect(op.cost([8, 8]).params).toBe(2 * C * (C / 2));
    op.dispose();
  });

  it('building and disposing every op, in both modes and strides, leaves no tensor behind', () => {
    const before = tf.memory().numTensors;
    for (const name of PRIMITIVES) {
      for (const mode of ['search', 'fixed'] as const) {
        for (const stride of [1, 2] as const) createOp(name, { channels: 4, mode, rng: new Rng(0), stride }).dispose();
      }
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects an unknown name', () => {
    expect(() => createOp('dil_conv_3x3' as OpName, { channels: 4, mode: 'search', rng: new Rng(0) })).toThrow(
      /unknown operation "dil_conv_3x3"/,
    );
  });
});

// Hand-computed parameter counts at C channels (convs have no bias; BN affine only in fixed mode).
const C = 6;
const expectedParams: Record<OpMode, Record<OpName, number>> = {
  search: {
    none: 0,
    max_pool_3x3: 0,
    avg_pool_3x3: 0,
    skip_connect: 0,
    sep_conv_3x3: 2 * (3 * 3 * C + C * C),
    sep_conv_5x5: 2 * (5 * 5 * C + C * C),
    atrous_conv_3x3: 3 * 3 * C * C,
    atrous_conv_5x5: 5 * 5 * C * C,
  },
  fixed: {
    none: 0,
    max_pool_3x3: 0,
    avg_pool_3x3: 0,
    skip_connect: 0,
    sep_conv_3x3: 2 * (3 * 3 * C + C * C + 2 * C),
    sep_conv_5x5: 2 * (5 * 5 * C + C * C + 2 * C),
    atrous_conv_3x3: 3 * 3 * C * C + 2 * C,
    atrous_conv_5x5: 5 * 5 * C * C + 2 * C,
  },
};
// Multiply-adds per output pixel at C channels (convolutions only).
const expectedMultAddsPerPixel: Record<OpName, number> = {
  none: 0,
  max_pool_3x3: 0,
  avg_pool_3x3: 0,
  skip_connect: 0,
  sep_conv_3x3: 2 * (9 * C + C * C),
  sep_conv_5x5: 2 * (25 * C + C * C),
  atrous_conv_3x3: 9 * C * C,
  atrous_conv_5x5: 25 * C * C,
};

describe.each(['search', 'fixed'] as const)('op costs in %s mode', (mode) => {
  it.each([...PRIMITIVES])('%s has the hand-computed parameter and multiply-add counts', (name) => {
    const op = createOp(name, { channels: C, mode, rng: new Rng(1) });
    const cost = op.cost([10, 7]);
    expect(cost.params).toBe(expectedParams[mode][name]);
    expect(cost.multAdds).toBe(70 * expectedMultAddsPerPixel[name]);
    expect(op.trainableVariables().reduce((sum, v) => sum + v.size, 0)).toBe(cost.params);
    op.dispose();
  });
});

describe.each(TEST_BACKENDS)('ops on %s', (backend) => {
  beforeAll(() => useBackend(backend));
  afterAll(() => useBackend('cpu'));

  const sizes = [
    [1, 1],
    [5, 5],
    [8, 6],
    [11, 21],
  ] as const;
  const shapeRows = PRIMITIVES.flatMap((name) => sizes.map(([h, w]) => [name, h, w] as const));

  it.each(shapeRows)('%s keeps [2, %i, %i, C] at stride 1', (name, h, w) => {
    for (const mode of ['search', 'fixed'] as const) {
      const op = createOp(name, { channels: C, mode, rng: new Rng(2) });
      const shape = tf.tidy(() => op.apply(tf.ones([2, h, w, C]) as tf.Tensor4D, trainingContext()).shape);
      expect(shape).toEqual([2, h, w, C]);
      expect(op.outputSize([h, w])).toEqual([h, w]);
      op.dispose();
    }
  });

  it.each([...PRIMITIVES].filter((name) => name !== 'none'))(
    '%s: gradients of input and weights match finite differences',
    async (name) => {
      for (const mode of ['search', 'fixed'] as const) {
        const op = createOp(name, { channels: 4, mode, rng: new Rng(3) });
        const x = tf.variable(seededTensor([2, 6, 5, 4], 4)) as tf.Variable<tf.Rank.R4>;
        const r = seededTensor([2, 6, 5, 4], 5);
        const ctx = trainingContext();
        await checkGradients(() => tf.sum(tf.mul(op.apply(x, ctx), r)), [x, ...op.trainableVariables()], {
          epsilon: name === 'max_pool_3x3' ? 1e-3 : 3e-3,
        });
        tf.dispose([x, r]);
        op.dispose();
      }
    },
  );

  it.each([...PRIMITIVES])('%s at stride 2 (reducing retrain cell) halves the size, with gradients', async (name) => {
    const op = createOp(name, { channels: C, mode: 'fixed', rng: new Rng(8), stride: 2 });
    const ctx = trainingContext();
    for (const [h, w] of [
      [7, 6],
      [8, 9],
    ]) {
      expect(tf.tidy(() => op.apply(tf.ones([2, h, w, C]) as tf.Tensor4D, ctx).shape)).toEqual([2, Math.ceil(h / 2), Math.ceil(w / 2), C]);
      expect(op.outputSize([h, w])).toEqual([Math.ceil(h / 2), Math.ceil(w / 2)]);
    }
    // Same parameters as at stride 1, except skip, which becomes a factorized reduce (two 1×1 convs + BN).
    expect(op.cost([7, 6]).params).toBe(name === 'skip_connect' ? 2 * C * (C / 2) + 2 * C : expectedParams.fixed[name]);
    if (name !== 'none') {
      const x = tf.variable(seededTensor([2, 7, 6, C], 9)) as tf.Variable<tf.Rank.R4>;
      const r = seededTensor([2, 4, 3, C], 10);
      await checkGradients(() => tf.sum(tf.mul(op.apply(x, ctx), r)) as tf.Scalar, [x, ...op.trainableVariables()], {
        epsilon: name === 'max_pool_3x3' ? 1e-3 : 3e-3,
      });
      tf.dispose([x, r]);
    }
    op.dispose();
  });

  // Offsets (dy, dx) from an impulse where each op's output is non-zero, with every filter set to ones:
  // the op's receptive field. Atrous ops see every second pixel (rate 2); separable ops, applied
  // twice, see a dense square of twice their kernel's reach.
  const square = (reach: number, step = 1) => {
    const offsets: string[] = [];
    for (let dy = -reach; dy <= reach; dy += step) for (let dx = -reach; dx <= reach; dx += step) offsets.push(`${dy},${dx}`);
    return offsets;
  };
  const receptiveFields: Record<OpName, string[]> = {
    none: [],
    max_pool_3x3: square(1),
    avg_pool_3x3: square(1),
    skip_connect: square(0),
    sep_conv_3x3: square(2),
    sep_conv_5x5: square(4),
    atrous_conv_3x3: square(ATROUS_RATE, ATROUS_RATE),
    atrous_conv_5x5: square(2 * ATROUS_RATE, ATROUS_RATE),
  };

  it.each([...PRIMITIVES])('%s has the receptive field its definition says (impulse response)', (name) => {
    expect(ATROUS_RATE).toBe(2);
    const size = 15;
    const centre = 7;
    for (const mode of ['search', 'fixed'] as const) {
      const op = createOp(name, { channels: 2, mode, rng: new Rng(11) });
      for (const v of op.trainableVariables()) if (v.rank === 4) v.assign(tf.onesLike(v));
      const impulse = tf.tidy(() => tf.pad(tf.ones([1, 1, 1, 2]), [[0, 0], [centre, centre], [centre, centre], [0, 0]]) as tf.Tensor4D);
      // Inference mode: BatchNorm scales by its running statistics (1 / √(1 + ε)), keeping signs.
      const response = tf.tidy(() => op.apply(impulse, { ...trainingContext(), training: false }).arraySync() as number[][][][]);
      const field: string[] = [];
      response[0].forEach((row, y) => row.forEach((pixel, x) => pixel.some((v) => v !== 0) && field.push(`${y - centre},${x - centre}`)));
      expect(field, `${name} (${mode})`).toEqual(receptiveFields[name]);
      impulse.dispose();
      op.dispose();
    }
  });

  it('none gives zeros', () => {
    const op = createOp('none', { channels: C, mode: 'search', rng: new Rng(0) });
    const sum = tf.tidy(() => tf.sum(tf.abs(op.apply(tf.ones([1, 3, 3, C]) as tf.Tensor4D, trainingContext()))).dataSync()[0]);
    expect(sum).toBe(0);
  });

  it('100 forward+backward steps of every op leak no tensor', async () => {
    const ops = PRIMITIVES.map((name) => createOp(name, { channels: 4, mode: 'search', rng: new Rng(6) }));
    const variables = ops.flatMap((op) => op.trainableVariables());
    const optimizer = tf.train.momentum(0.01, 0.9);
    const x = seededTensor([2, 8, 8, 4], 7) as tf.Tensor4D;
    const ctx = trainingContext();
    const step = () =>
      optimizer.minimize(() => tf.addN(ops.map((op) => tf.mean(tf.square(op.apply(x, ctx))))) as tf.Scalar, false, variables);
    await step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 100; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    await expectNoLeakedTensors(step);
    optimizer.dispose();
    x.dispose();
    for (const op of ops) op.dispose();
  });
});
