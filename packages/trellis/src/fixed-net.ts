import * as tf from '@tensorflow/tfjs';
import { assertValidGenotype, FixedCell, type Genotype } from '@adl/cell';
import { addCosts, BatchNorm, DeepLabV3Aspp, Module, reluSavingOutput, resizeBilinear, Stem, STEM_CHANNELS, type BatchNormSettings, type Cost, type ForwardContext, type Size } from '@adl/ops';
import { Rng } from '@adl/backend';
import { assertValidPath } from './architecture.js';
import { DeepLabV3PlusDecoder } from './decoder.js';
import { levelStride } from '@adl/decode';
import { levelSizes } from './levels.js';

export interface FixedNetOptions {
  readonly architecture: {
    readonly path: readonly number[];
    readonly genotype: readonly (readonly [number, string])[];
    readonly filterMultiplier: number;
  };
  readonly numClasses?: number;
  /** ASPP width (256 in DeepLabv3). */
  readonly asppChannels?: number;
  /** Separable 3×3 convs in ASPP and decoder, DeepLab's default. */
  readonly separable?: boolean;
  /**
   * ASPP rates; by default DeepLabv3's for the last cell's stride (`asppRates`). Training crops much
   * smaller than the rates × stride see mostly padding in those branches: lower them for small images.
   */
  readonly asppRates?: readonly [number, number, number];
  /** Recompute each cell in the backward pass instead of keeping its activations (beyond the paper; off by default). */
  readonly recompute?: boolean;
  /** With `recompute`, cells whose output holds fewer floats keep their activations (`RECOMPUTE_MIN_OUTPUT_FLOATS` of `@adl/ops`). */
  readonly recomputeMinOutputFloats?: number;
  /** Momentum and epsilon of every BatchNorm; by default the official retraining's (`RETRAIN_BATCH_NORM`). */
  readonly batchNorm?: BatchNormSettings;
  readonly seed?: number;
}

/**
 * The DeepLab NAS retraining arg scope (`nas_network.py`, `nas_arg_scope`): BN decay 0.9997, i.e. a
 * momentum of 1 − 0.9997 for the newest batch, and epsilon 1e-3.
 */
export const RETRAIN_BATCH_NORM: BatchNormSettings = { momentum: 1 - 0.9997, epsilon: 1e-3 };

/** ASPP rates for the last cell's output stride: DeepLabv3's 6, 12, 18 at stride 16, scaled. */
export function asppRates(outputStride: number): [number, number, number] {
  return [6, 12, 18].map((rate) => (rate * 16) / outputStride) as [number, number, number];
}

/** One cost line of `FixedNet.costBreakdown`. */
export interface StageCost extends Cost {
  readonly stage: string;
}

/**
 * `run` in its own `tf.tidy` when `release`, so its intermediates go when it returns. In training too:
 * what the backward pass needs, tfjs has saved as kept clones, which a tidy does not free.
 */
function stage<T extends tf.TensorContainer>(release: boolean, run: () => T): T {
  return release ? tf.tidy(run) : run();
}

/**
 * The retrain network of a found architecture (design §7), built as the DeepLab NAS code builds
 * `hnasnet`: the stem; one fixed cell per layer at level `path[l]` with F·2^level channels per block
 * — a cell one level coarser than its input runs its input ops at stride 2, and an input one level
 * coarser is first resized bilinearly to the cell's size; `h_prev_prev` is the output two cells back
 * (resized by the cell); ReLU; the DeepLabv3 ASPP; the DeepLabv3+ decoder on the last stride-4
 * features (the last level-0 cell, or the stem); logits upsampled to the input size.
 */
export class FixedNet extends Module {
  readonly path: readonly number[];
  readonly genotype: Genotype;
  readonly filterMultiplier: number;
  readonly numClasses: number;
  private readonly stem: Stem;
  private readonly cells: FixedCell[];
  private readonly aspp: DeepLabV3Aspp;
  private readonly decoder: DeepLabV3PlusDecoder;
  /** Index into the outputs list [stem stride 2, stem stride 4, cell 0, …] of the decoder's features. */
  private readonly lowLevelOutput: number;

  constructor({ architecture, numClasses = 19, asppChannels = 256, separable = false, asppRates: rates, recompute = false, recomputeMinOutputFloats, batchNorm = RETRAIN_BATCH_NORM, seed = 0 }: FixedNetOptions) {
    super();
    assertValidPath(architecture.path);
    assertValidGenotype(architecture.genotype);
    this.path = architecture.path;
    this.genotype = architecture.genotype;
    this.filterMultiplier = architecture.filterMultiplier;
    this.numClasses = numClasses;
    const rng = new Rng(seed);
    const blocks = this.genotype.length / 2;
    this.stem = this.addChild(new Stem({ affine: true, rng }));
    const channels: number[] = [STEM_CHANNELS[1], STEM_CHANNELS[2]];
    let previousLevel = 0;
    this.cells = this.addChildren(this.path.map((level, l) => {
      const cell = new FixedCell({
        position: { cell: l, cells: this.path.length },
        recompute,
        recomputeMinOutputFloats,
        prevPrevChannels: channels[channels.length - 2],
        prevChannels: channels[channels.length - 1],
        channels: this.filterMultiplier * 2 ** level,
        genotype: this.genotype,
        stride: level > previousLevel ? 2 : 1,
        rng,
      });
      channels.push(blocks * this.filterMultiplier * 2 ** level);
      previousLevel = level;
      return cell;
    }));
    const lastLevel = this.path[this.path.length - 1];
    this.aspp = this.addChild(new DeepLabV3Aspp({
      inChannels: channels[channels.length - 1],
      outChannels: asppChannels,
      rates: rates ?? asppRates(levelStride(lastLevel)),
      separable,
      rng,
    }));
    const lastLevelZero = this.path.lastIndexOf(0);
    this.lowLevelOutput = lastLevelZero >= 0 ? lastLevelZero + 2 : 1;
    this.decoder = this.addChild(new DeepLabV3PlusDecoder({
      lowLevelChannels: channels[this.lowLevelOutput],
      asppChannels,
      numClasses,
      separable,
      rng,
    }));
    for (const module of this.modules()) if (module instanceof BatchNorm) module.configure(batchNorm);
  }

  /**
   * Logits at the input size, `[N, H, W, classes]`. Call inside `tf.tidy`. Each stage's intermediates
   * are freed as it ends, in training as in inference (peak memory: what the backward pass keeps, plus
   * one stage's).
   */
  apply(image: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
    const outputs = this.backbone(image, ctx, { release: true });
    const aspp = stage(true, () => this.aspp.apply(reluSavingOutput(outputs[outputs.length - 1]), ctx));
    const logits = stage(true, () => this.decoder.apply(aspp, outputs[this.lowLevelOutput], ctx));
    tf.dispose([aspp, ...outputs.filter((t) => !t.isDisposed)]);
    return resizeBilinear(logits, [image.shape[1], image.shape[2]]);
  }

  /**
   * The feature maps before the head: the stem's stride-2 and stride-4 outputs, then each cell's
   * output at its level's size. Call inside `tf.tidy`. With `release`, each stage's intermediates are
   * freed when it ends and each output once no later stage reads it (in inference, peak memory is then
   * about one cell's, not the whole network's): only the last output and the low-level features stay,
   * the other entries of the list are disposed.
   */
  backbone(image: tf.Tensor4D, ctx: ForwardContext, { release = false } = {}): tf.Tensor4D[] {
    const sizes = levelSizes([image.shape[1], image.shape[2]]);
    const outputs = stage(release, () => {
      const { stride2, stride4 } = this.stem.apply(image, ctx);
      return [stride2, stride4];
    });
    let previousLevel = 0;
    this.path.forEach((level, l) => {
      const [input, previous] = outputs.slice(-2);
      outputs.push(
        stage(release, () =>
          // A cell one level finer reads its input resized up; one level coarser strides its own ops.
          this.cells[l].apply(input, level < previousLevel ? resizeBilinear(previous, sizes[level]) : previous, ctx),
        ),
      );
      const done = outputs.length - 3;
      if (release && done !== this.lowLevelOutput) outputs[done].dispose();
      previousLevel = level;
    });
    return outputs;
  }

  /** Parameters and multiply-adds per stage for one image of the given size. */
  costBreakdown(input: Size): StageCost[] {
    const sizes = levelSizes(input);
    const stages: StageCost[] = [{ stage: 'stem', ...this.stem.cost(input) }];
    let previousLevel = 0;
    this.path.forEach((level, l) => {
      // A reducing cell reads inputs at the finer size; others at their own level's size.
      const inputSize = level > previousLevel ? sizes[previousLevel] : sizes[level];
      stages.push({ stage: `cell ${l} (stride ${levelStride(level)})`, ...this.cells[l].cost(inputSize) });
      previousLevel = level;
    });
    const lastLevel = this.path[this.path.length - 1];
    stages.push({ stage: 'aspp', ...this.aspp.cost(sizes[lastLevel]) });
    stages.push({ stage: 'decoder', ...this.decoder.cost(sizes[0]) });
    return stages;
  }

  cost(input: Size): Cost {
    return addCosts(...this.costBreakdown(input));
  }
}
