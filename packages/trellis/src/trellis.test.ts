import * as tf from '@tensorflow/tfjs';
import { AUTO_DEEPLAB_GENOTYPE, FixedCell } from '@adl/cell';
import { normalizeBetas, validMoves } from '@adl/decode';
import { BatchNorm, RECOMPUTE_MIN_OUTPUT_FLOATS, type ForwardContext } from '@adl/ops';
import { kernelsFor, Rng } from '@adl/backend';
import { useFastestTestBackend } from '@adl/backend/test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ArchitectureError, assertValidPath, parseArchitecture, readArchitectureFile } from './architecture.js';
import { DeepLabV3PlusDecoder } from './decoder.js';
import { FixedNet, RETRAIN_BATCH_NORM, asppRates, type FixedNetOptions } from './fixed-net.js';
import { SuperNet, type SuperNetOptions } from './supernet.js';
import { perEdgeToBatched } from './edge-layout.js';
import { levelSizes } from './levels.js';
import { PRESETS, getPreset, resolveArchitecture } from './presets.js';

const ctx = (): ForwardContext => ({ training: true, kernels: kernelsFor(tf.getBackend()) });
const image = (shape: [number, number, number, number], seed: number) =>
  tf.tensor4d(new Rng(seed).normalArray(shape.reduce((a, b) => a * b, 1)), shape);

describe('the trellis (design §4)', () => {
  it.each([
    [321, 321, [81, 41, 21, 11]],
    [64, 64, [16, 8, 4, 2]],
    [1024, 2048, [256, 128, 64, 32]],
  ])('level sizes of a %i×%i image', (h, w, heights) => {
    expect(levelSizes([h, w]).map(([height]) => height)).toEqual(heights);
  });

  it('uses ASPP rates 6, 12, 18 at stride 16, scaled by 16/s', () => {
    expect(asppRates(16)).toEqual([6, 12, 18]);
    expect(asppRates(8)).toEqual([12, 24, 36]);
  });
});

describe('architectures and presets (design §7)', () => {
  it('the presets hold the paper path and cell at F = 20, 32, 48; a misspelt one lists them', async () => {
    for (const [name, F] of [
      ['autodeeplab-s', 20],
      ['autodeeplab-m', 32],
      ['autodeeplab-l', 48],
    ] as const) {
      const preset = getPreset(name);
      expect(preset.path).toEqual([0, 0, 0, 1, 2, 1, 2, 2, 3, 3, 2, 1]);
      expect(preset.genotype).toEqual(AUTO_DEEPLAB_GENOTYPE);
      expect(preset.filterMultiplier).toBe(F);
    }
    expect(() => getPreset('autodeeplab-xl')).toThrow(/unknown preset "autodeeplab-xl"/);
    await expect(resolveArchitecture('autodeeplab-m')).resolves.toEqual(PRESETS['autodeeplab-m']);
    await expect(resolveArchitecture('autodeeplab-xs')).rejects.toThrow(`autodeeplab-xs: not found: neither a preset (autodeeplab-s, autodeeplab-m, autodeeplab-l) nor an existing architecture file (relative paths are taken from the current folder, ${process.cwd()})`);
  });

  it('checks a path on its own: levels 0..3, whole numbers, steps of at most one, not empty', () => {
    expect(() => assertValidPath([0, 1, 2, 3, 3, 2, 1, 0])).not.toThrow();
    for (const [path, message] of [
      [[], /path: expected a non-empty list of levels/],
      ['0,1', /path: expected a non-empty list of levels/],
      [[0, 0.5], /path\[1\]: level 0.5 is not one of 0, 1, 2, 3/],
      [[-1], /path\[0\]: level -1 is not one of 0, 1, 2, 3/],
      [[0, 1, 2, 3, 4], /path\[4\]: level 4 is not one of 0, 1, 2, 3/],
    ] as const) {
      expect(() => assertValidPath(path as never)).toThrow(message);
    }
    const error = (() => {
      try {
        assertValidPath([5]);
      } catch (caught) {
        return caught as Error;
      }
    })();
    expect([error?.name, error instanceof ArchitectureError]).toEqual(['ArchitectureError', true]);
  });

  it('reads an architecture file, naming the file in every error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'adl-architecture-'));
    try {
      const file = join(dir, 'architecture.json');
      await writeFile(file, JSON.stringify(PRESETS['autodeeplab-s']));
      expect(await readArchitectureFile(file)).toEqual(PRESETS['autodeeplab-s']);
      await expect(readArchitectureFile(join(dir, 'missing.json'))).rejects.toThrow(/missing\.json: cannot read \(ENOENT\)/);
      await writeFile(file, '{ "path": [0,');
      await expect(readArchitectureFile(file)).rejects.toThrow(/architecture\.json: not valid JSON/);
      await writeFile(file, JSON.stringify({ path: [0, 2], genotype: AUTO_DEEPLAB_GENOTYPE, filterMultiplier: 8 }));
      await expect(readArchitectureFile(file)).rejects.toThrow(/architecture\.json: path: path\[1\]/);
      expect(() => parseArchitecture({ path: [0], genotype: AUTO_DEEPLAB_GENOTYPE, filterMultiplier: 8, extra: 1 })).toThrow(/^architecture: \(root\): /);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [{ path: [0, 2], genotype: AUTO_DEEPLAB_GENOTYPE, filterMultiplier: 8 }, /path: path\[1\]: level 2 after level 0 jumps by more than one/],
    [{ path: [2], genotype: AUTO_DEEPLAB_GENOTYPE, filterMultiplier: 8 }, /path\[0\]: level 2 after level 0/],
    [{ path: [0, 4], genotype: AUTO_DEEPLAB_GENOTYPE, filterMultiplier: 8 }, /path\.1: /],
    [{ path: [0], genotype: [[0, 'sep_conv_3x3'], [3, 'skip_connect']], filterMultiplier: 8 }, /genotype: genotype\[1\]: block 0 can read inputs 0..1, not 3/],
    [{ path: [0], genotype: [[0, 'dil_conv_3x3'], [1, 'skip_connect']], filterMultiplier: 8 }, /genotype\.0\.1/],
    [{ path: [0], genotype: AUTO_DEEPLAB_GENOTYPE }, /filterMultiplier/],
  ])('rejects a bad architecture with the field named (%#)', (data, message) => {
    expect(() => parseArchitecture(data, 'runs/x/architecture.json')).toThrow(ArchitectureError);
    expect(() => parseArchitecture(data, 'runs/x/architecture.json')).toThrow(/^runs\/x\/architecture\.json: /);
    expect(() => parseArchitecture(data, 'runs/x/architecture.json')).toThrow(message);
  });

  // Paper, Table 2 (1024×2048 input): parameters 10.15M / 21.62M / 44.42M; multiply-adds
  // 333.25B / 460.93B / 695.03B.
  it.each([
    ['autodeeplab-s', 10.15, 333.25],
    ['autodeeplab-m', 21.62, 460.93],
    ['autodeeplab-l', 44.42, 695.03],
  ] as const)('%s at 1024×2048 has the paper parameter count and multiply-adds within 7%%', (name, paramsM, multAddsB) => {
    const net = new FixedNet({ architecture: PRESETS[name] });
    const { params, multAdds } = net.cost([1024, 2048]);
    expect(+(params / 1e6).toFixed(2)).toBe(paramsM);
    // To the parameter: every block is counted by hand in its own test; this pins their sum.
    expect(params).toBe({ 'autodeeplab-s': 10_147_427, 'autodeeplab-m': 21_622_451, 'autodeeplab-l': 44_424_691 }[name]);
    expect(params).toBe(net.trainableVariables().reduce((sum, v) => sum + v.size, 0));
    expect(Math.abs(multAdds / 1e9 - multAddsB) / multAddsB).toBeLessThan(0.07);
    net.dispose();
  });

  // Counted as DeepLab's TensorFlow graph is profiled (multiply-adds = profiler FLOPs / 2): atrous
  // convs through space-to-batch (`tfMultAdds`), the 1025×2049 evaluation crop, and ASPP image pooling
  // as an average pool over windows of the 769×769 training crop (97×97 at stride 8, stride 1, valid)
  // whose 1×1 conv then runs on the 33×161 pooled map. The rest (additions, biases) is under 0.05%.
  it.each([
    ['autodeeplab-s', 333.25],
    ['autodeeplab-m', 460.93],
    ['autodeeplab-l', 695.03],
  ] as const)('%s counted as DeepLab\'s TensorFlow graph is within 0.1 percent of the paper', (name, multAddsB) => {
    const architecture = PRESETS[name];
    const net = new FixedNet({ architecture });
    const { multAdds, tfMultAdds } = net.cost([1025, 2049]);
    expect(tfMultAdds).toBeGreaterThan(multAdds);
    const asppInput = 5 * architecture.filterMultiplier * 2 ** architecture.path[architecture.path.length - 1];
    const [height, width] = levelSizes([1025, 2049])[1];
    const window = 97;
    const pooled = (height - window + 1) * (width - window + 1);
    const averagePool = (window * window * pooled * asppInput) / 2;
    const pooledConv = (pooled - 1) * asppInput * 256;
    const total = (tfMultAdds + averagePool + pooledConv) / 1e9;
    expect(Math.abs(total - multAddsB) / multAddsB).toBeLessThan(0.001);
    net.dispose();
  });
});

describe('SuperNet', () => {
  beforeAll(async () => {
    await useFastestTestBackend();
  });

  // L = 4 holds every kind of node and edge (layer 3 has all four levels, with three sources each);
  // the L = 12, F = 8 net is exercised by bench/supernet-step.mjs.
  it('forward + backward at 2×3×32×32 (F = 4, L = 4): logits at input size, gradients reach α, every valid β and every weight', () => {
    const net = new SuperNet({ layers: 4, filterMultiplier: 4, numClasses: 5 });
    const x = image([2, 32, 32, 3], 1);
    const target = image([2, 32, 32, 5], 2);
    let shape: number[] = [];
    const variables = [...net.architectureVariables(), ...net.weightVariables()];
    const { grads } = tf.variableGrads(() => {
      const logits = net.apply(x, ctx());
      shape = logits.shape;
      return tf.mean(tf.mul(logits, target)) as tf.Scalar;
    }, variables);
    expect(shape).toEqual([2, 32, 32, 5]);
    const alphaGrad = grads[net.alpha.name].arraySync() as number[][];
    expect(alphaGrad.flat().every((g) => g !== 0)).toBe(true);
    const betaGrad = grads[net.beta.name].arraySync() as number[][][];
    betaGrad.forEach((layer, l) =>
      layer.forEach((row, j) =>
        row.forEach((g, k) => {
          // Entries of valid moves out of existing nodes are on some path; the rest are not used.
          expect(g !== 0).toBe(validMoves(l, j)[k]);
        }),
      ),
    );
    const dead = net.weightVariables().filter((v) => tf.max(tf.abs(grads[v.name])).dataSync()[0] === 0);
    expect(dead.map((v) => v.shape)).toEqual([]);
    tf.dispose([x, target, ...Object.values(grads)]);
    net.dispose();
  });

  it('recomputing mixed ops in the backward pass gives the same loss, gradients and BN statistics, and a flat tensor count', () => {
    const plain = new SuperNet({ layers: 3, filterMultiplier: 2, numClasses: 3, seed: 5 });
    const checkpointed = new SuperNet({ layers: 3, filterMultiplier: 2, numClasses: 3, seed: 5, recompute: true, recomputeMinOutputFloats: 0 });
    expectRecomputationExact(plain, checkpointed, (net) => [...net.architectureVariables(), ...net.weightVariables()], 16, 1e-4);
  });

  it('recomputes whole cells only from the output size threshold; their mixed ops always', async () => {
    const x = image([2, 16, 16, 3], 4);
    const convsPerStep = async (options: Partial<SuperNetOptions>) => {
      const net = new SuperNet({ layers: 2, filterMultiplier: 2, numClasses: 3, seed: 5, ...options });
      const { kernels } = await tf.profile(() => tf.dispose(tf.variableGrads(() => tf.mean(net.apply(x, ctx())) as tf.Scalar, net.weightVariables())));
      net.dispose();
      return kernels.filter((k) => k.name === 'Conv2D' || k.name === 'DepthwiseConv2dNative').length;
    };
    // At 16², batch 2, the largest cell output is 2·4·4·10 = 320 floats.
    const [plain, mixedOpsOnly, cellsToo] = [await convsPerStep({}), await convsPerStep({ recompute: true }), await convsPerStep({ recompute: true, recomputeMinOutputFloats: 0 })];
    expect(plain).toBeLessThan(mixedOpsOnly);
    expect(mixedOpsOnly).toBeLessThan(cellsToo);
    expect(await convsPerStep({ recompute: true, recomputeMinOutputFloats: 321 })).toBe(mixedOpsOnly);
    x.dispose();
  });

  it('splits weights from α/β, and its training steps keep the tensor count flat', () => {
    const net = new SuperNet({ layers: 2, filterMultiplier: 2, numClasses: 3 });
    const architecture = net.architectureVariables();
    expect(architecture).toEqual([net.alpha, net.beta]);
    expect(net.weightVariables().some((v) => architecture.includes(v))).toBe(false);
    expect(net.alpha.shape).toEqual([20, 8]);
    expect(net.beta.shape).toEqual([2, 4, 3]);
    const x = image([2, 16, 16, 3], 3);
    const sgd = tf.train.momentum(0.025, 0.9);
    const adam = tf.train.adam(3e-3);
    const loss = () => tf.mean(tf.square(net.apply(x, ctx()))) as tf.Scalar;
    const step = () => {
      sgd.minimize(loss, false, net.weightVariables());
      adam.minimize(loss, false, net.architectureVariables());
    };
    step();
    const before = tf.memory().numTensors;
    step();
    step();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x]);
    sgd.dispose();
    adam.dispose();
    net.dispose();
  });

  it('β̂ is the normalisation the decoder uses: a softmax over the valid moves of each node, zero elsewhere', () => {
    const net = new SuperNet({ layers: 3, filterMultiplier: 2, numClasses: 3, seed: 2 });
    net.beta.assign(tf.tensor3d(Array.from({ length: 3 * 4 * 3 }, (_, i) => Math.sin(i)), [3, 4, 3]));
    const betaHat = tf.tidy(() => net.betaHat().arraySync());
    const expected = normalizeBetas(net.beta.arraySync()).map((layer) => layer.map((row) => row.map(Math.exp)));
    // Rows of nodes that do not exist are never read (no edge leaves them).
    betaHat.forEach((layer, l) => layer.forEach((row, j) => validMoves(l, j).some(Boolean) && row.forEach((value, k) => expect(value).toBeCloseTo(expected[l][j][k], 6))));
    net.dispose();
  });

  it('edges batched by state (the default) and one mixed op per edge: one network per seed, the same loss and α/β gradients; perEdgeToBatched maps the layouts', () => {
    const options = { layers: 2, filterMultiplier: 2, numClasses: 3, seed: 6 };
    const perEdge = new SuperNet({ ...options, batchEdges: false });
    const batched = new SuperNet(options);
    const partial = new SuperNet({ ...options, partialChannels: 2 });
    expect([perEdge.batchEdges, batched.batchEdges, partial.batchEdges]).toEqual([false, true, false]);
    partial.dispose();
    for (const list of ['weightVariables', 'stateVariables'] as const) {
      const converted = perEdgeToBatched(perEdge, batched, perEdge[list](), list);
      expect(converted.map((t) => t.shape)).toEqual(batched[list]().map((v) => v.shape));
      converted.forEach((t, i) => expect(tf.util.arraysEqual(t.dataSync(), batched[list]()[i].dataSync())).toBe(true));
      tf.dispose(converted);
    }
    expect(batched.cost([32, 32])).toEqual(perEdge.cost([32, 32]));
    const x = image([2, 16, 16, 3], 7);
    const run = (net: SuperNet) => tf.variableGrads(() => tf.mean(tf.square(net.apply(x, ctx()))) as tf.Scalar, net.architectureVariables());
    const [a, b] = [run(perEdge), run(batched)];
    expect(Math.abs(a.value.dataSync()[0] - b.value.dataSync()[0])).toBeLessThan(1e-5 * Math.abs(a.value.dataSync()[0]));
    for (const v of [perEdge.alpha, perEdge.beta]) {
      const other = v === perEdge.alpha ? batched.alpha : batched.beta;
      const scale = tf.max(tf.abs(a.grads[v.name])).dataSync()[0];
      expect(tf.max(tf.abs(tf.sub(a.grads[v.name], b.grads[other.name]))).dataSync()[0]).toBeLessThan(1e-3 * scale);
    }
    tf.dispose([x, a.value, b.value, ...Object.values(a.grads), ...Object.values(b.grads)]);
    perEdge.dispose();
    batched.dispose();
  });

  it('one cell per node (Eq. 6 read per node): logits at input size, gradients reach α, every valid β and every weight; fewer weights; recomputation exact', () => {
    const options = { layers: 4, filterMultiplier: 2, numClasses: 3, seed: 8 };
    const perNode = new SuperNet({ ...options, cells: 'per-node' });
    const perEdge = new SuperNet(options);
    expect(perNode.cost([32, 32]).params).toBe(perNode.weightVariables().reduce((sum, v) => sum + v.size, 0));
    // 13 cells (one per node at L = 4) instead of 25 (one per edge); the resamplings and heads as before.
    expect(perNode.cost([32, 32]).params).toBeLessThan(0.7 * perEdge.cost([32, 32]).params);
    const x = image([2, 32, 32, 3], 9);
    const variables = [...perNode.architectureVariables(), ...perNode.weightVariables()];
    const { grads } = tf.variableGrads(() => tf.mean(tf.square(perNode.apply(x, ctx()))) as tf.Scalar, variables);
    const betaGrad = grads[perNode.beta.name].arraySync() as number[][][];
    betaGrad.forEach((layer, l) => layer.forEach((row, j) => row.forEach((g, k) => expect(g !== 0).toBe(validMoves(l, j)[k]))));
    expect((grads[perNode.alpha.name].arraySync() as number[][]).flat().every((g) => g !== 0)).toBe(true);
    expect(perNode.weightVariables().filter((v) => tf.max(tf.abs(grads[v.name])).dataSync()[0] === 0).map((v) => v.shape)).toEqual([]);
    tf.dispose([x, ...Object.values(grads)]);
    perEdge.dispose();
    perNode.dispose();
    const plain = new SuperNet({ layers: 3, filterMultiplier: 2, numClasses: 3, seed: 5, cells: 'per-node' });
    const checkpointed = new SuperNet({ layers: 3, filterMultiplier: 2, numClasses: 3, seed: 5, cells: 'per-node', recompute: true, recomputeMinOutputFloats: 0 });
    expectRecomputationExact(plain, checkpointed, (net) => [...net.architectureVariables(), ...net.weightVariables()], 16, 1e-4);
    expect(() => new SuperNet({ ...options, cells: 'per-cell' as never })).toThrow(/cells must be per-edge or per-node, got per-cell/);
  });

  it('counts weights only: parameters equal the weight variables', () => {
    const net = new SuperNet({ layers: 4, filterMultiplier: 4, numClasses: 3 });
    expect(net.cost([64, 64]).params).toBe(net.weightVariables().reduce((sum, v) => sum + v.size, 0));
    net.dispose();
  });
});

describe('the DeepLabv3+ decoder', () => {
  it.each([false, true])('projects to 48 channels, refines with two 3×3 blocks of 256 (separable: %s), classifies with a biased 1×1 conv, all BN affine', (separable) => {
    const [low, aspp, classes] = [30, 64, 5];
    const decoder = new DeepLabV3PlusDecoder({ lowLevelChannels: low, asppChannels: aspp, numClasses: classes, separable, rng: new Rng(0) });
    const block = (cin: number) => (separable ? 9 * cin + 2 * cin + cin * 256 + 2 * 256 : 9 * cin * 256 + 2 * 256);
    const expected = low * 48 + 2 * 48 + block(aspp + 48) + block(256) + 256 * classes + classes;
    expect(decoder.cost([4, 4]).params).toBe(expected);
    expect(decoder.trainableVariables().reduce((sum, v) => sum + v.size, 0)).toBe(expected);
    expect(decoder.stateVariables()).toHaveLength(2 * (separable ? 5 : 3));
    decoder.dispose();
  });

  it('is plain (not separable) and reads 256-channel ASPP features unless told otherwise', () => {
    const given = new DeepLabV3PlusDecoder({ lowLevelChannels: 30, asppChannels: 256, numClasses: 5, separable: false, rng: new Rng(0) });
    const defaults = new DeepLabV3PlusDecoder({ lowLevelChannels: 30, numClasses: 5, rng: new Rng(0) });
    expect(defaults.cost([4, 4])).toEqual(given.cost([4, 4]));
    given.dispose();
    defaults.dispose();
  });
});

describe('FixedNet', () => {
  it('names its cost stages: the stem, each cell with its stride, ASPP, the decoder', () => {
    const net = new FixedNet({ architecture: { path: [0, 1, 1], genotype: AUTO_DEEPLAB_GENOTYPE, filterMultiplier: 2 }, numClasses: 3, asppChannels: 8 });
    expect(net.costBreakdown([32, 32]).map((s) => s.stage)).toEqual(['stem', 'cell 0 (stride 4)', 'cell 1 (stride 8)', 'cell 2 (stride 8)', 'aspp', 'decoder']);
    net.dispose();
  });

  it('networks built and disposed leave no tensor behind', () => {
    const before = tf.memory().numTensors;
    new FixedNet({ architecture: { path: [0, 1, 0], genotype: AUTO_DEEPLAB_GENOTYPE, filterMultiplier: 2 }, numClasses: 3, asppChannels: 8 }).dispose();
    new SuperNet({ layers: 2, filterMultiplier: 2, numClasses: 3 }).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  beforeAll(async () => {
    await useFastestTestBackend();
  });

  it("infers with each stage's intermediates freed: the same features, at a lower peak memory", async () => {
    const net = new FixedNet({ architecture: { path: [0, 1, 2, 2, 1, 0], genotype: AUTO_DEEPLAB_GENOTYPE, filterMultiplier: 4 }, numClasses: 3, asppChannels: 16 });
    const x = image([1, 64, 48, 3], 5);
    const evaluation = { training: false, kernels: kernelsFor(tf.getBackend()) };
    const kept = tf.tidy(() => net.backbone(x, evaluation));
    const released = tf.tidy(() => net.backbone(x, evaluation, { release: true }));
    const live = released.filter((t) => !t.isDisposed);
    // The last cell's output and the decoder's low-level features stay, bit for bit the same.
    expect(live).toHaveLength(2);
    expect(released.at(-1)!.isDisposed).toBe(false);
    released.forEach((t, i) => {
      if (!t.isDisposed) expect(Array.from(t.dataSync())).toEqual(Array.from(kept[i].dataSync()));
    });
    const peak = async (release: boolean) => {
      const before = tf.memory().numBytes;
      const { peakBytes } = await tf.profile(() => tf.tidy(() => void net.backbone(x, evaluation, { release })));
      return peakBytes - before;
    };
    await peak(false); // kernel caches of constants are made on the first call
    const [releasing, keeping] = [await peak(true), await peak(false)];
    // Measured on onednn: 0.89 against 0.96 MB (0.92). Each Sequential frees its layers' outputs as it
    // goes in evaluation, and a BN folded into its conv leaves none: what release frees besides is the
    // cells' outputs (0.64 before the folding, when each BN's scaled copy stayed to the end).
    expect(releasing).toBeLessThan(keeping * 0.95);
    tf.dispose([x, ...kept, ...live]);
    net.dispose();
  });

  it('trains along a path that goes down, up and down again; logits at input size; no tensor growth', () => {
    const path = [0, 1, 2, 1, 0, 1];
    const net = new FixedNet({ architecture: { path, genotype: AUTO_DEEPLAB_GENOTYPE, filterMultiplier: 4 }, numClasses: 3, asppChannels: 16 });
    const x = image([2, 45, 37, 3], 4);
    expect(tf.tidy(() => net.apply(x, ctx()).shape)).toEqual([2, 45, 37, 3]);
    // Every cell's output has its level's size and B·F·2^level channels.
    const sizes = levelSizes([45, 37]);
    const shapes = tf.tidy(() => net.backbone(x, ctx()).map((t) => t.shape));
    expect(shapes).toEqual([[2, 23, 19, 64], [2, 12, 10, 128], ...path.map((level) => [2, ...sizes[level], 5 * 4 * 2 ** level])]);
    const sgd = tf.train.momentum(0.01, 0.9);
    const step = () => sgd.minimize(() => tf.mean(tf.square(net.apply(x, ctx()))) as tf.Scalar, false, net.trainableVariables());
    step();
    const before = tf.memory().numTensors;
    step();
    expect(tf.memory().numTensors).toBe(before);
    expect(net.cost([45, 37]).params).toBe(net.trainableVariables().reduce((sum, v) => sum + v.size, 0));
    x.dispose();
    sgd.dispose();
    net.dispose();
  });
});

describe('BatchNorm settings: the official retraining arg scope in FixedNet, PyTorch\'s in search', () => {
  const settings = (net: { modules(): Iterable<unknown> }) => {
    const norms = [...net.modules()].filter((m): m is BatchNorm => m instanceof BatchNorm);
    return { count: norms.length, distinct: [...new Set(norms.map((bn) => `${bn.momentum} ${bn.epsilon}`))] };
  };

  it('every BatchNorm of a FixedNet (stem, cells, ASPP, decoder) has decay 0.9997 and epsilon 1e-3 (nas_arg_scope)', () => {
    expect(RETRAIN_BATCH_NORM).toEqual({ momentum: 1 - 0.9997, epsilon: 1e-3 });
    const net = new FixedNet({ architecture: { path: [0, 1], genotype: AUTO_DEEPLAB_GENOTYPE, filterMultiplier: 2 }, numClasses: 3, asppChannels: 4 });
    const { count, distinct } = settings(net);
    expect(count).toBeGreaterThan(20);
    expect(distinct).toEqual([`${1 - 0.9997} 0.001`]);
    const custom = new FixedNet({ architecture: { path: [0], genotype: AUTO_DEEPLAB_GENOTYPE, filterMultiplier: 2 }, numClasses: 3, asppChannels: 4, batchNorm: { momentum: 0.1, epsilon: 1e-5 } });
    expect(settings(custom).distinct).toEqual(['0.1 0.00001']);
    net.dispose();
    custom.dispose();
  });

  it('the supernet keeps momentum 0.1 and epsilon 1e-5', () => {
    const net = new SuperNet({ layers: 2, filterMultiplier: 2, numClasses: 3 });
    expect(settings(net).distinct).toEqual(['0.1 0.00001']);
    net.dispose();
  });
});

describe('FixedNet with recomputed cells (beyond the paper, off by default)', () => {
  it('gives the same loss, gradients and BN statistics, and a flat tensor count', () => {
    const architecture = { path: [0, 1, 0], genotype: AUTO_DEEPLAB_GENOTYPE, filterMultiplier: 2 };
    const plain = new FixedNet({ architecture, numClasses: 3, asppChannels: 4, asppRates: [1, 2, 3], seed: 5 });
    const checkpointed = new FixedNet({ architecture, numClasses: 3, asppChannels: 4, asppRates: [1, 2, 3], seed: 5, recompute: true, recomputeMinOutputFloats: 0 });
    const recomputing = (net: FixedNet) => [...net.modules()].filter((m): m is FixedCell => m instanceof FixedCell).map((cell) => cell.recompute);
    expect([recomputing(plain), recomputing(checkpointed)]).toEqual([[false, false, false], [true, true, true]]);
    expectRecomputationExact(plain, checkpointed, (net) => net.trainableVariables(), 24, 1e-5);
  });

  it(`recomputes only cells whose output reaches the threshold (by default ${RECOMPUTE_MIN_OUTPUT_FLOATS} floats)`, async () => {
    // At 24², batch 2: the level-0 cells output 2·6·6·10 = 720 floats, the level-1 cell 2·3·3·20 = 360.
    const architecture = { path: [0, 1, 0], genotype: AUTO_DEEPLAB_GENOTYPE, filterMultiplier: 2 };
    const x = image([2, 24, 24, 3], 4);
    const kernelsPerStep = async (options: Partial<FixedNetOptions>) => {
      const net = new FixedNet({ architecture, numClasses: 3, asppChannels: 4, asppRates: [1, 2, 3], seed: 5, ...options });
      const { kernels } = await tf.profile(() => tf.dispose(tf.variableGrads(() => tf.mean(net.apply(x, ctx())) as tf.Scalar, net.trainableVariables())));
      net.dispose();
      return kernels.filter((k) => k.name === 'Conv2D' || k.name === 'DepthwiseConv2dNative').length;
    };
    const [plain, byDefault, all, levelZero] = [
      await kernelsPerStep({}),
      await kernelsPerStep({ recompute: true }),
      await kernelsPerStep({ recompute: true, recomputeMinOutputFloats: 0 }),
      await kernelsPerStep({ recompute: true, recomputeMinOutputFloats: 500 }),
    ];
    const perCell = (all - plain) / 3; // the convolutions of one cell's second forward pass
    expect(perCell).toBeGreaterThan(0);
    expect([byDefault, levelZero]).toEqual([plain, plain + 2 * perCell]);
    x.dispose();
  });
});

interface TrainableNet {
  apply(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D;
  stateVariables(): tf.Variable[];
  dispose(): void;
}

/**
 * Two nets built alike, the second recomputing in the backward pass: the same loss and BN statistics,
 * gradients equal up to float32 summation order (within `tolerance` of each gradient's largest value),
 * and the recomputing net's training steps leave no tensor behind. Disposes both nets.
 */
function expectRecomputationExact<N extends TrainableNet>(plain: N, checkpointed: N, variablesOf: (net: N) => tf.Variable[], size: number, tolerance: number): void {
  const x = image([2, size, size, 3], 4);
  const target = image([2, size, size, 3], 5);
  const gradientsOf = (net: N) => tf.variableGrads(() => tf.mean(tf.mul(net.apply(x, ctx()), target)) as tf.Scalar, variablesOf(net));
  const a = gradientsOf(plain);
  const b = gradientsOf(checkpointed);
  expect(b.value.dataSync()[0]).toBeCloseTo(a.value.dataSync()[0], 6);
  const namesB = variablesOf(checkpointed).map((v) => v.name);
  variablesOf(plain).forEach((v, i) => {
    const [ga, gb] = [a.grads[v.name], b.grads[namesB[i]]];
    const scale = tf.max(tf.abs(ga)).dataSync()[0];
    expect(tf.max(tf.abs(tf.sub(ga, gb))).dataSync()[0]).toBeLessThanOrEqual(tolerance * scale + 1e-6);
  });
  plain.stateVariables().forEach((v, i) => expect(Array.from(checkpointed.stateVariables()[i].dataSync())).toEqual(Array.from(v.dataSync())));
  tf.dispose([a.value, b.value, ...Object.values(a.grads), ...Object.values(b.grads)]);
  const sgd = tf.train.momentum(0.025, 0.9);
  const step = () => sgd.minimize(() => tf.mean(tf.square(checkpointed.apply(x, ctx()))) as tf.Scalar, false, variablesOf(checkpointed));
  step();
  const before = tf.memory().numTensors;
  step();
  step();
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose([x, target]);
  sgd.dispose();
  plain.dispose();
  checkpointed.dispose();
}
