import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { createOp, PRIMITIVES, type ForwardContext } from '@adl/ops';
import { kernelsFor, Rng } from '@adl/backend';
import { edgeIndex } from '@adl/decode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixedCell } from './fixed-cell.js';
import { GenotypeError } from './genotype.js';
import { MixedOp } from './mixed-op.js';
import { AUTO_DEEPLAB_GENOTYPE } from './paper-genotype.js';
import { SearchCell } from './search-cell.js';

const ctx = (): ForwardContext => ({ training: true, kernels: kernelsFor(tf.getBackend()) });
const random = (shape: number[], seed: number) => tf.tensor<tf.Rank>(new Rng(seed).normalArray(shape.reduce((a, b) => a * b, 1)), shape) as tf.Tensor4D;
const oneHot = (k: number) => tf.oneHot(k, PRIMITIVES.length).toFloat() as tf.Tensor1D;
const maxAbs = (t: tf.Tensor) => tf.max(tf.abs(t)).dataSync()[0];

describe.each(['cpu', 'wasm'])('cells on %s', (backend) => {
  beforeAll(async () => {
    await tf.setBackend(backend);
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('a mixed op with all weight on one op is that op; none alone gives zeros', () => {
    const mixed = new MixedOp(4, new Rng(1));
    tf.tidy(() => {
      const x = random([2, 5, 5, 4], 2);
      expect(maxAbs(tf.sub(mixed.apply(x, oneHot(PRIMITIVES.indexOf('skip_connect')), ctx()), x))).toBe(0);
      expect(maxAbs(mixed.apply(x, oneHot(0), ctx()))).toBe(0);
    });
    mixed.dispose();
  });

  it('a mixed op is Σ_k w_k · op_k(x) of its ops applied one by one (the conv ops share one ReLU of x), in value and gradients', () => {
    const mixed = new MixedOp(4, new Rng(1));
    // The same ops with the same weights: built in the same order from the same seed.
    const rng = new Rng(1);
    const ops = PRIMITIVES.slice(1).map((name) => createOp(name, { channels: 4, mode: 'search', rng }));
    tf.tidy(() => {
      const x = random([2, 5, 5, 4], 2);
      const w = tf.softmax(random([8], 3) as tf.Tensor) as tf.Tensor1D;
      const target = random([2, 5, 5, 4], 4);
      const lossOf = (y: tf.Tensor) => tf.sum(tf.mul(y, target)) as tf.Scalar;
      const separate = (a: tf.Tensor, b: tf.Tensor) => lossOf(tf.addN(ops.map((op, k) => tf.mul(op.apply(a as tf.Tensor4D, ctx()), tf.slice(b, [k + 1], [1])))));
      const shared = (a: tf.Tensor, b: tf.Tensor) => lossOf(mixed.apply(a as tf.Tensor4D, b as tf.Tensor1D, ctx()));
      const expected = tf.grads(separate)([x, w]);
      const actual = tf.grads(shared)([x, w]);
      expect(Math.abs(shared(x, w).dataSync()[0] - separate(x, w).dataSync()[0])).toBeLessThan(1e-4);
      expected.forEach((g, i) => expect(maxAbs(tf.sub(actual[i], g))).toBeLessThan(1e-4 * Math.max(1, maxAbs(g))));
    });
    mixed.dispose();
    ops.forEach((op) => op.dispose());
  });

  it.each([
    [0, 4, 17],
    [1, 8, 9],
    [2, 16, 5],
    [3, 32, 3],
  ])('level %i: blocks of F·2^i = %i channels, output B·F·2^i, at size %i', (level, channels, size) => {
    const F = 4;
    expect(channels).toBe(F * 2 ** level);
    const cell = new SearchCell({ prevPrevChannels: 6, prevChannels: 7, channels, rng: new Rng(3) });
    tf.tidy(() => {
      const rows = tf.unstack(tf.softmax(random([20, 8], 4))) as tf.Tensor1D[];
      const out = cell.apply(random([2, size, size, 6], 5), random([2, size, size, 7], 6), rows, ctx());
      expect(out.shape).toEqual([2, size, size, 5 * channels]);
      expect(cell.outChannels).toBe(5 * channels);
    });
    cell.dispose();
  });

  it('numbers edges block by block (design §3): edge (b, j) feeds input j into block b', () => {
    const cell = new SearchCell({ prevPrevChannels: 3, prevChannels: 3, channels: 3, rng: new Rng(7) });
    const skip = PRIMITIVES.indexOf('skip_connect');
    tf.tidy(() => {
      const hPrevPrev = random([1, 4, 4, 3], 8);
      const hPrev = random([1, 4, 4, 3], 9);
      const [s0, s1] = cell.inputs.apply(hPrevPrev, hPrev, ctx());
      for (let block = 0; block < 5; block++) {
        for (let input = 0; input <= block + 1; input++) {
          // Skip on edge (block, input); if the input is a block, route s1 into that block first.
          const weights = new Map<number, number>([[edgeIndex(block, input), skip]]);
          if (input >= 2) weights.set(edgeIndex(input - 2, 1), skip);
          const rows = Array.from({ length: 20 }, (_, e) => (weights.has(e) ? oneHot(weights.get(e)!) : tf.zeros([8]) as tf.Tensor1D));
          const out = cell.apply(hPrevPrev, hPrev, rows, ctx());
          const blockOut = tf.slice(out, [0, 0, 0, 3 * block], [1, 4, 4, 3]);
          const expected = input === 0 ? s0 : s1;
          expect(maxAbs(tf.sub(blockOut, expected))).toBeLessThan(1e-5);
          expect(maxAbs(expected)).toBeGreaterThan(0.1);
        }
      }
    });
    cell.dispose();
  });

  it('gradients reach every α entry and every weight', () => {
    const cell = new SearchCell({ prevPrevChannels: 4, prevChannels: 4, channels: 4, rng: new Rng(10) });
    const alpha = tf.variable(tf.mul(random([20, 8], 11), 1e-3), true);
    const hPrevPrev = random([2, 5, 5, 4], 12);
    const hPrev = random([2, 5, 5, 4], 13);
    const target = random([2, 5, 5, 20], 14);
    const variables = [alpha, ...cell.trainableVariables()];
    const { grads } = tf.variableGrads(() => {
      const rows = tf.unstack(tf.softmax(alpha)) as tf.Tensor1D[];
      return tf.sum(tf.mul(cell.apply(hPrevPrev, hPrev, rows, ctx()), target));
    }, variables);
    const alphaGrad = grads[alpha.name].arraySync() as number[][];
    expect(alphaGrad.flat().every((g) => Math.abs(g) > 0)).toBe(true);
    for (const v of cell.trainableVariables()) expect(maxAbs(grads[v.name])).toBeGreaterThan(0);
    tf.dispose([alpha, hPrevPrev, hPrev, target, ...Object.values(grads)]);
    cell.dispose();
  });

  it('training steps of a search cell keep the tensor count flat', async () => {
    const cell = new SearchCell({ prevPrevChannels: 4, prevChannels: 4, channels: 4, rng: new Rng(15) });
    const alpha = tf.variable(tf.zeros([20, 8]), true);
    const x = random([2, 6, 6, 4], 16);
    const optimizer = tf.train.sgd(0.01);
    const step = () =>
      optimizer.minimize(() => tf.mean(tf.square(cell.apply(x, x, tf.unstack(tf.softmax(alpha)) as tf.Tensor1D[], ctx()))) as tf.Scalar, false, [
        alpha,
        ...cell.trainableVariables(),
      ]);
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([alpha, x]);
    optimizer.dispose();
    cell.dispose();
  });
});

describe('fixed cell', () => {
  it('the paper genotype maps the DeepLab NAS code indices [1,0,1,0,3,1,4,2,3,5] (0 = h_prev) onto ours (0 = h_prev_prev)', () => {
    const codeIndices = [1, 0, 1, 0, 3, 1, 4, 2, 3, 5];
    expect(AUTO_DEEPLAB_GENOTYPE.map(([input]) => input)).toEqual(codeIndices.map((i) => (i < 2 ? 1 - i : i)));
    expect(AUTO_DEEPLAB_GENOTYPE.map(([, op]) => op)).toEqual([
      'atrous_conv_5x5',
      'sep_conv_3x3',
      'sep_conv_3x3',
      'atrous_conv_3x3',
      'sep_conv_3x3',
      'sep_conv_3x3',
      'sep_conv_5x5',
      'sep_conv_5x5',
      'sep_conv_5x5',
      'atrous_conv_5x5',
    ]);
  });

  it('builds only the genotype ops, with exactly the hand-computed parameter count', () => {
    const [pp, p, C] = [100, 200, 40];
    const cell = new FixedCell({ prevPrevChannels: pp, prevChannels: p, channels: C, genotype: AUTO_DEEPLAB_GENOTYPE, rng: new Rng(1) });
    const preprocess = pp * C + 2 * C + p * C + 2 * C;
    const sep = (k: number) => 2 * (k * k * C + C * C + 2 * C);
    const atrous = (k: number) => k * k * C * C + 2 * C;
    const ops = atrous(5) + sep(3) + sep(3) + atrous(3) + sep(3) + sep(3) + sep(5) + sep(5) + sep(5) + atrous(5);
    expect(cell.cost([9, 9]).params).toBe(preprocess + ops);
    expect(cell.trainableVariables().reduce((sum, v) => sum + v.size, 0)).toBe(preprocess + ops);
    const out = tf.tidy(() => cell.apply(random([1, 9, 9, pp], 2), random([1, 9, 9, p], 3), ctx()).shape);
    expect(out).toEqual([1, 9, 9, 5 * C]);
    cell.dispose();
  });

  it('its ops on one state share that state\'s ReLU: value and gradients equal each op applied alone', () => {
    const [pp, p, C] = [3, 5, 4];
    const cell = new FixedCell({ prevPrevChannels: pp, prevChannels: p, channels: C, genotype: AUTO_DEEPLAB_GENOTYPE, rng: new Rng(1) });
    // The cell's own preprocessing and ops, each applied with its leading ReLU.
    const parts = cell as unknown as { inputs: { apply(a: tf.Tensor4D, b: tf.Tensor4D, c: ForwardContext): tf.Tensor4D[] }; ops: { apply(x: tf.Tensor4D, c: ForwardContext): tf.Tensor4D }[] };
    const separate = (a: tf.Tensor4D, b: tf.Tensor4D) => {
      const states = parts.inputs.apply(a, b, ctx());
      for (let block = 0; block < 5; block++) {
        const [i, j] = [2 * block, 2 * block + 1];
        states.push(tf.add(parts.ops[i].apply(states[AUTO_DEEPLAB_GENOTYPE[i][0]], ctx()), parts.ops[j].apply(states[AUTO_DEEPLAB_GENOTYPE[j][0]], ctx())));
      }
      return tf.concat(states.slice(2), 3) as tf.Tensor4D;
    };
    tf.tidy(() => {
      const [a, b, target] = [random([2, 6, 6, pp], 2), random([2, 6, 6, p], 3), random([2, 6, 6, 5 * C], 4)];
      const variables = cell.trainableVariables();
      const gradients = (f: (a: tf.Tensor4D, b: tf.Tensor4D) => tf.Tensor4D) => {
        const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(f(a, b), target)) as tf.Scalar, variables);
        const inputGrads = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(f(x as tf.Tensor4D, y as tf.Tensor4D), target)))([a, b]);
        return [value, ...inputGrads, ...variables.map((v) => grads[v.name])];
      };
      const expected = gradients(separate);
      const actual = gradients((x, y) => cell.apply(x, y, ctx()));
      expected.forEach((g, i) => expect(maxAbs(tf.sub(actual[i], g)), `tensor ${i}`).toBeLessThanOrEqual(1e-5 * Math.max(1, maxAbs(g))));
    });
    cell.dispose();
  });

  it.each([
    [[[0, 'sep_conv_3x3']], /two edges per block, got 1/],
    [[], /two edges per block, got 0 edges/],
    ['sep_conv_3x3', /two edges per block, got string edges/],
    [[[0, 'sep_conv_3x3'], [-1, 'sep_conv_3x3']], /genotype\[1\]: block 0 can read inputs 0..1, not -1/],
    [[[0, 'sep_conv_3x3'], [0.5, 'sep_conv_3x3']], /genotype\[1\]: block 0 can read inputs 0..1, not 0.5/],
    [[[0, 'sep_conv_3x3'], [2, 'sep_conv_3x3']], /genotype\[1\]: block 0 can read inputs 0..1, not 2/],
    [[[0, 'none'], [1, 'sep_conv_3x3']], /genotype\[0\]: "none" is not a candidate operation/],
    [[[0, 'dil_conv_3x3'], [1, 'sep_conv_3x3']], /"dil_conv_3x3" is not a candidate operation/],
  ])('rejects an invalid genotype (%#)', (genotype, message) => {
    expect(() => new FixedCell({ prevPrevChannels: 4, prevChannels: 4, channels: 4, genotype: genotype as never, rng: new Rng(0) })).toThrow(message);
    const error = (() => {
      try {
        new FixedCell({ prevPrevChannels: 4, prevChannels: 4, channels: 4, genotype: genotype as never, rng: new Rng(0) });
      } catch (caught) {
        return caught as Error;
      }
    })();
    expect(error).toBeInstanceOf(GenotypeError);
    expect(error?.name).toBe('GenotypeError');
  });
});

describe('search cell parts', () => {
  it('a mixed op holds the 7 ops besides none, in search mode: their parameters, BN statistics and costs', () => {
    const C = 4;
    const mixed = new MixedOp(C, new Rng(1));
    expect(mixed.recompute).toBe(false);
    const sep = (k: number) => 2 * (k * k * C + C * C);
    const params = sep(3) + sep(5) + 9 * C * C + 25 * C * C;
    expect(mixed.cost([6, 5])).toEqual({ params, multAdds: 30 * params, tfMultAdds: 30 * (sep(3) + sep(5)) + 6 * 6 * (9 + 25) * C * C });
    expect(mixed.trainableVariables().reduce((sum, v) => sum + v.size, 0)).toBe(params);
    // BNs without affine: one after each pool, two per separable op, one per atrous op.
    expect(mixed.stateVariables()).toHaveLength(2 * (1 + 1 + 2 + 2 + 1 + 1));
    mixed.dispose();
  });

  it('a search cell: preprocessing without affine, one mixed op per edge, recomputing when asked; checks its α rows', () => {
    const [pp, p, C] = [6, 7, 4];
    const cell = new SearchCell({ prevPrevChannels: pp, prevChannels: p, channels: C, rng: new Rng(3), recompute: true, batchEdges: false });
    const mixedParams = new MixedOp(C, new Rng(0)).cost([1, 1]).params;
    expect(cell.edges).toHaveLength(20);
    expect(cell.edges.every((edge) => edge.recompute)).toBe(true);
    expect(cell.cost([5, 5]).params).toBe(pp * C + p * C + 20 * mixedParams);
    expect(cell.trainableVariables().reduce((sum, v) => sum + v.size, 0)).toBe(pp * C + p * C + 20 * mixedParams);
    expect(cell.stateVariables()).toHaveLength(2 * 2 + 20 * 16);
    expect(cell.cost([5, 5]).multAdds).toBe(25 * (pp * C + p * C) + 20 * new MixedOp(C, new Rng(0)).cost([5, 5]).multAdds);
    const rows = Array.from({ length: 19 }, () => tf.ones([8]) as tf.Tensor1D);
    expect(() => cell.apply(random([1, 3, 3, pp], 1), random([1, 3, 3, p], 2), rows, ctx())).toThrow(/the cell has 20 edges, got 19 α rows/);
    tf.dispose(rows);
    cell.dispose();
    // Batched by state (the default): the same weights; the pools' BN statistics once per state (6), not per edge (20).
    const batched = new SearchCell({ prevPrevChannels: pp, prevChannels: p, channels: C, rng: new Rng(3), recompute: true });
    expect(batched.stateEdges.every((group) => group.recompute)).toBe(true);
    expect(batched.trainableVariables().reduce((sum, v) => sum + v.size, 0)).toBe(pp * C + p * C + 20 * mixedParams);
    expect(batched.stateVariables().reduce((sum, v) => sum + v.size, 0)).toBe(2 * 2 * C + 2 * (6 * 20 + 2 * 6) * C);
    batched.dispose();
  });

  it('cells built and disposed leave no tensor behind', () => {
    const before = tf.memory().numTensors;
    new SearchCell({ prevPrevChannels: 3, prevChannels: 3, channels: 2, rng: new Rng(0) }).dispose();
    new FixedCell({ prevPrevChannels: 3, prevChannels: 3, channels: 2, genotype: AUTO_DEEPLAB_GENOTYPE, rng: new Rng(0), stride: 2 }).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('fixed cell at stride 2', () => {
  it('charges the ops on the cell inputs at the input size, the ops on blocks at the output size', () => {
    const C = 4;
    const genotype = [[0, 'sep_conv_3x3'], [1, 'atrous_conv_3x3'], [2, 'sep_conv_3x3'], [0, 'skip_connect']] as const;
    const cell = new FixedCell({ prevPrevChannels: C, prevChannels: C, channels: C, genotype, rng: new Rng(0), stride: 2 });
    // 8×8 in, 4×4 out. Preprocessing at 8×8; the strided separable conv's depthwise and everything
    // after it at 4×4; the strided atrous conv resizes to 4×4 first; the factorized reduce's two
    // half-width 1×1 convs at 4×4; the block's separable conv at 4×4.
    const sep = 16 * (2 * 9 * C + 2 * C * C);
    const expected = 64 * 2 * C * C + sep + 16 * 9 * C * C + sep + 2 * 16 * C * (C / 2);
    expect(cell.cost([8, 8]).multAdds).toBe(expected);
    expect(cell.outChannels).toBe(2 * C);
    expect(new FixedCell({ prevPrevChannels: C, prevChannels: C, channels: C, genotype, rng: new Rng(0) }).outputSize([8, 8])).toEqual([8, 8]);
    cell.dispose();
  });

  it('halves the size; only ops on the cell inputs are strided; parameters unchanged', () => {
    const options = { prevPrevChannels: 8, prevChannels: 12, channels: 6, genotype: AUTO_DEEPLAB_GENOTYPE, rng: new Rng(4) };
    const strided = new FixedCell({ ...options, stride: 2 });
    const plain = new FixedCell(options);
    const shape = tf.tidy(() => strided.apply(random([2, 11, 9, 8], 5), random([2, 11, 9, 12], 6), ctx()).shape);
    expect(shape).toEqual([2, 6, 5, 30]);
    expect(strided.outputSize([11, 9])).toEqual([6, 5]);
    expect(strided.cost([11, 9]).params).toBe(plain.cost([11, 9]).params);
    expect(strided.cost([12, 12]).multAdds).toBeLessThan(plain.cost([12, 12]).multAdds);
    strided.dispose();
    plain.dispose();
  });
});
