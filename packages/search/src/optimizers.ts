import * as tf from '@tensorflow/tfjs';
import { adamUpdate, newVariable, sgdMomentumUpdate } from '@adl/ops';

/** An optimizer over an explicit variable list, whose state can be checkpointed exactly. */
export interface CheckpointableOptimizer {
  /** State tensors in a fixed order (for checkpoints). */
  stateTensors(): tf.Variable[];
  /** Scalars of the state (step counts). */
  stateScalars(): Record<string, number>;
  restoreScalars(scalars: Record<string, number>): void;
  dispose(): void;
}

/**
 * SGD with momentum and L2 weight decay as PyTorch computes it (and DARTS uses, SPEC §5):
 * g ← ∇ + wd·w; v ← μ·v + g; w ← w − lr·v (`sgdMomentumUpdate` of @adl/ops: one kernel per
 * variable on the onednn backend).
 */
export class SgdMomentum implements CheckpointableOptimizer {
  private readonly velocity: tf.Variable[];

  constructor(
    private readonly variables: readonly tf.Variable[],
    readonly momentum: number,
    readonly weightDecay: number,
  ) {
    this.velocity = variables.map((v) => newVariable(() => tf.zerosLike(v), false));
  }

  /** One step with gradients in the order of the variables. */
  apply(gradients: readonly tf.Tensor[], learningRate: number): void {
    const hyper = { learningRate, momentum: this.momentum, weightDecay: this.weightDecay };
    this.variables.forEach((variable, i) => sgdMomentumUpdate(variable, this.velocity[i], gradients[i], hyper));
  }

  stateTensors(): tf.Variable[] {
    return this.velocity;
  }

  stateScalars(): Record<string, number> {
    return {};
  }

  restoreScalars(): void {}

  dispose(): void {
    tf.dispose(this.velocity);
  }
}

/**
 * Adam with L2 weight decay added to the gradient (PyTorch `Adam(weight_decay=…)`, as DARTS and
 * SPEC §5: lr 3e-3, betas 0.9 / 0.999, weight decay 1e-3), with bias correction.
 */
export class Adam implements CheckpointableOptimizer {
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
    this.firstMoment = variables.map((v) => newVariable(() => tf.zerosLike(v), false));
    this.secondMoment = variables.map((v) => newVariable(() => tf.zerosLike(v), false));
  }

  apply(gradients: readonly tf.Tensor[], learningRate: number): void {
    this.step++;
    const { beta1, beta2, epsilon, weightDecay, step } = this;
    this.variables.forEach((variable, i) =>
      adamUpdate(variable, this.firstMoment[i], this.secondMoment[i], gradients[i], { learningRate, beta1, beta2, epsilon, weightDecay, step }),
    );
  }

  stateTensors(): tf.Variable[] {
    return [...this.firstMoment, ...this.secondMoment];
  }

  stateScalars(): Record<string, number> {
    return { step: this.step };
  }

  restoreScalars(scalars: Record<string, number>): void {
    this.step = scalars.step ?? 0;
  }

  dispose(): void {
    tf.dispose([...this.firstMoment, ...this.secondMoment]);
  }
}
