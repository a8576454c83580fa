import * as tf from '@tensorflow/tfjs';

/** What owns variables: a module, or anything with the same three methods. */
export interface VariableOwner {
  /** Trainable variables, in the order they were registered. */
  trainableVariables(): tf.Variable[];
  /** Non-trainable state (BatchNorm running statistics), in the order it was registered. */
  stateVariables(): tf.Variable[];
  dispose(): void;
}

type Part =
  | { readonly kind: 'child'; readonly owner: VariableOwner }
  | { readonly kind: 'weight' | 'state'; readonly variable: tf.Variable }
  | { readonly kind: 'constant'; readonly tensor: tf.Tensor };

/**
 * A piece of a network that owns variables, as PyTorch's `nn.Module`: it registers its children and
 * its own variables once, as it makes them, and the variable lists and `dispose` follow from that
 * order (a checkpoint stores variables in it, so registration order is part of the file format).
 */
export abstract class Module implements VariableOwner {
  private readonly parts: Part[] = [];

  /** Registers a child; returns it. */
  protected addChild<T extends VariableOwner>(child: T): T {
    this.parts.push({ kind: 'child', owner: child });
    return child;
  }

  protected addChildren<T extends VariableOwner>(children: readonly T[]): T[] {
    return children.map((child) => this.addChild(child));
  }

  /** Registers a trainable variable of this module itself; returns it. */
  protected addWeight<V extends tf.Variable>(variable: V): V {
    this.parts.push({ kind: 'weight', variable });
    return variable;
  }

  /** Registers non-trainable state (running statistics); returns it. */
  protected addState<V extends tf.Variable>(variable: V): V {
    this.parts.push({ kind: 'state', variable });
    return variable;
  }

  /** Registers a constant tensor, disposed with the module; returns it. */
  protected addConstant<T extends tf.Tensor>(tensor: T): T {
    this.parts.push({ kind: 'constant', tensor });
    return tensor;
  }

  /** This module and every module under it, depth first in registration order. */
  *modules(): Generator<Module> {
    yield this;
    for (const part of this.parts) {
      if (part.kind === 'child' && part.owner instanceof Module) yield* part.owner.modules();
    }
  }

  trainableVariables(): tf.Variable[] {
    return this.parts.flatMap((part) => (part.kind === 'child' ? part.owner.trainableVariables() : part.kind === 'weight' ? [part.variable] : []));
  }

  stateVariables(): tf.Variable[] {
    return this.parts.flatMap((part) => (part.kind === 'child' ? part.owner.stateVariables() : part.kind === 'state' ? [part.variable] : []));
  }

  dispose(): void {
    for (const part of this.parts) {
      if (part.kind === 'child') part.owner.dispose();
      else if (part.kind === 'constant') part.tensor.dispose();
      else part.variable.dispose();
    }
  }
}
