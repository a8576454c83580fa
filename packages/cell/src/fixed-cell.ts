import * as tf from '@tensorflow/tfjs';
import { addCosts, createOp, halfSize, maybeRecompute, Module, RECOMPUTE_MIN_OUTPUT_FLOATS, reluSavingOutput, startsWithRelu, type Cost, type ForwardContext, type Layer, type Size } from '@adl/ops';
import type { Rng } from '@adl/backend';
import { CellInputs, type CellInputChannels } from './cell-inputs.js';
import { dropPath, dropPathRng, scheduledKeepProb } from './drop-path.js';
import { assertValidGenotype, type Genotype } from './genotype.js';

export interface FixedCellOptions extends CellInputChannels {
  readonly genotype: Genotype;
  readonly rng: Rng;
  /**
   * 2 for a cell one level coarser than its input: the ops reading the two cell inputs run at
   * stride 2 (as the DeepLab NAS code builds the retrain network); ops on blocks stay at stride 1.
   */
  readonly stride?: 1 | 2;
  /** Where the cell sits in its network, `cell` of `cells` counted from 0: scheduled drop path scales with it. */
  readonly position?: { readonly cell: number; readonly cells: number };
  /**
   * In training, keep only the cell's inputs for the backward pass and run the cell again there
   * (same gradients, one more forward pass of the cell): beyond the paper, off by default.
   */
  readonly recompute?: boolean;
  /**
   * With `recompute`, a call whose output holds fewer floats than this keeps its activations instead:
   * there the memory saved is small and the second forward pass is not. By default
   * `RECOMPUTE_MIN_OUTPUT_FLOATS` of `@adl/ops`; 0 recomputes every call.
   */
  readonly recomputeMinOutputFloats?: number;
}

/**
 * The cell of a found architecture: only the genotype's ops are built (affine BN, as in
 * retraining); block b adds its two ops' outputs; the output concatenates the blocks.
 */
export class FixedCell extends Module {
  readonly genotype: Genotype;
  readonly blocks: number;
  readonly channels: number;
  readonly stride: 1 | 2;
  readonly position: { readonly cell: number; readonly cells: number };
  readonly recompute: boolean;
  readonly recomputeMinOutputFloats: number;
  private readonly inputs: CellInputs;
  private readonly ops: Layer[];
  /** For each state read by ops that start with a ReLU, the last such op (ops run in index order). */
  private readonly lastReluReader = new Map<number, number>();

  constructor(options: FixedCellOptions) {
    super();
    assertValidGenotype(options.genotype);
    this.genotype = options.genotype;
    this.blocks = options.genotype.length / 2;
    this.channels = options.channels;
    this.inputs = this.addChild(new CellInputs(options, true, options.rng));
    this.stride = options.stride ?? 1;
    this.position = options.position ?? { cell: 0, cells: 1 };
    this.recompute = options.recompute ?? false;
    this.recomputeMinOutputFloats = options.recomputeMinOutputFloats ?? RECOMPUTE_MIN_OUTPUT_FLOATS;
    this.ops = this.addChildren(
      options.genotype.map(([input, op]) => createOp(op, { channels: options.channels, mode: 'fixed', rng: options.rng, stride: input < 2 ? this.stride : 1 })),
    );
    this.genotype.forEach(([input], index) => {
      if (startsWithRelu(this.ops[index])) this.lastReluReader.set(input, index);
    });
  }

  get outChannels(): number {
    return this.blocks * this.channels;
  }

  apply(hPrevPrev: tf.Tensor4D, hPrev: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
    const [height, width] = this.outputSize([hPrev.shape[1], hPrev.shape[2]]);
    const outputFloats = hPrev.shape[0] * height * width * this.outChannels;
    return maybeRecompute(this.recompute && outputFloats >= this.recomputeMinOutputFloats, ([a, b], inner) => this.forward(a as tf.Tensor4D, b as tf.Tensor4D, inner), [hPrevPrev, hPrev], this.trainableVariables(), ctx);
  }

  private forward(hPrevPrev: tf.Tensor4D, hPrev: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
    const states: tf.Tensor4D[] = this.inputs.apply(hPrevPrev, hPrev, ctx);
    // The ReLU of a state that several ops start with, computed once (one gradient through it); in
    // inference freed after the last of them.
    const activated = new Map<number, tf.Tensor4D>();
    const run = (index: number) => {
      const op = this.ops[index];
      const input = this.genotype[index][0];
      if (!startsWithRelu(op)) return this.dropPath(index, op.apply(states[input], ctx), ctx);
      if (!activated.has(input)) activated.set(input, reluSavingOutput(states[input]));
      const shared = activated.get(input)!;
      const output = op.applyAfterFirst(shared, ctx);
      if (!ctx.training && this.lastReluReader.get(input) === index) shared.dispose();
      return this.dropPath(index, output, ctx);
    };
    for (let block = 0; block < this.blocks; block++) states.push(tf.add(run(2 * block), run(2 * block + 1)));
    return tf.concat(states.slice(2), 3);
  }

  /** Scheduled drop path on op `index`'s output in training, as DeepLab NAS applies it (not to `none`). */
  private dropPath(index: number, output: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
    const schedule = ctx.dropPath;
    if (!ctx.training || !schedule || schedule.keepProb >= 1 || this.genotype[index][1] === 'none') return output;
    const { cell, cells } = this.position;
    return dropPath(output, scheduledKeepProb(schedule.keepProb, cell, cells, schedule.progress), dropPathRng(schedule.seed, cell, index));
  }

  /** Cost for inputs of spatial size `size` (the output is half of it at stride 2). */
  cost(size: Size): Cost {
    const outSize = this.outputSize(size);
    return addCosts(
      this.inputs.cost(size),
      ...this.ops.map((op, index) => op.cost(this.genotype[index][0] < 2 ? size : outSize)),
    );
  }

  outputSize(size: Size): Size {
    return this.stride === 2 ? halfSize(size) : size;
  }
}
