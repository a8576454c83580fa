import * as tf from '@tensorflow/tfjs';
import { adamUpdate, sgdMomentumUpdates } from '@adl/backend';
import { Module, newVariable } from '@adl/ops';

/**
 * An optimizer over an explicit variable list, whose state can be checkpointed exactly: its state
 * tensors are its `stateVariables()` (it is a `Module`), its scalars below.
 */
export interface CheckpointableOptimizer {
  stateVariables(): tf.Variable[];
  /** Scalars of the state (step counts). */
  stateScalars(): Record<string, number>;
  restoreScalars(scalars: Record<string, number>): void;
  dispose(): void;
}

/**
 * SGD with momentum and L2 weight decay as PyTorch computes it (and DARTS uses, design §5):
 * g ← ∇ + wd·w; v ← μ·v + g; w ← w − lr·v (`sgdMomentumUpdates` of @adl/backend: on the onednn and webgpu
 * backends one kernel call per group of variables up to 4M floats).
 */
export class SgdMomentum extends Module implements CheckpointableOptimizer {
  private readonly velocity: tf.Variable[];

  constructor(
    private readonly variables: readonly tf.Variable[],
    readonly momentum: number,
    readonly weightDecay: number,
  ) {
    super();
    this.velocity = variables.map((v) => this.addState(newVariable(() => tf.zerosLike(v), false)));
  }

  /** One step with gradients in the order of the variables. */
  apply(gradients: readonly tf.Tensor[], learningRate: number): void {
    sgdMomentumUpdates(this.variables, this.velocity, gradients, { learningRate, momentum: this.momentum, weightDecay: this.weightDecay });
  }

  stateScalars(): Record<string, number> {
    return {};
  }

  restoreScalars(): void {}
}

/**
 * Adam with L2 weight decay added to the gradient (PyTorch `Adam(weight_decay=…)`, as DARTS and
 * design §5: lr 3e-3, betas 0.9 / 0.999, weight decay 1e-3), with bias correction.
 */
export class Adam extends Module implements CheckpointableOptimizer {
  private readonly firstMoment: tf.Variable[];
  private readonly secondMoment: tf.Variable[];
  private step = 0;

  constructor(
    private readonly variables: readonly tf.Variable[],
    readonly beta1: number,
    readonly beta2: number,
    readonly weightDecay: number,
    readonly epsilon = 1e-8,
  ) {
    super();
    this.firstMoment = variables.map((v) => this.addState(newVariable(() => tf.zerosLike(v), false)));
    this.secondMoment = variables.map((v) => this.addState(newVariable(() => tf.zerosLike(v), false)));
  }

  apply(gradients: readonly tf.Tensor[], learningRate: number): void {
    this.step++;
    const { beta1, beta2, epsilon, weightDecay, step } = this;
    this.variables.forEach((variable, i) =>
      adamUpdate(variable, this.firstMoment[i], this.secondMoment[i], gradients[i], { learningRate, beta1, beta2, epsilon, weightDecay, step }),
    );
  }

  stateScalars(): Record<string, number> {
    return { step: this.step };
  }

  restoreScalars(scalars: Record<string, number>): void {
    this.step = scalars.step ?? 0;
  }
}
