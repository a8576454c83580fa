import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Module } from './module.js';

/** A one-value variable; tidy frees the zeros it is made from, so each adds one tensor. */
const variable = (trainable: boolean) => tf.tidy(() => tf.variable(tf.zeros([1]), trainable));

class Leaf extends Module {
  readonly weight = this.addWeight(variable(true));
  readonly state = this.addState(variable(false));
}

class Parent extends Module {
  readonly first = this.addWeight(variable(true));
  readonly children = this.addChildren([new Leaf(), new Leaf()]);
  readonly mask = this.addConstant(tf.ones([2]));
  readonly last = this.addState(variable(false));
}

describe('Module', () => {
  it('lists weights and state in registration order, children in place, constants in neither', () => {
    const net = new Parent();
    expect(net.trainableVariables()).toEqual([net.first, net.children[0].weight, net.children[1].weight]);
    expect(net.stateVariables()).toEqual([net.children[0].state, net.children[1].state, net.last]);
    net.dispose();
  });

  it('disposes every variable and constant it registered, its children\'s too', () => {
    const before = tf.memory().numTensors;
    const net = new Parent();
    expect(tf.memory().numTensors).toBe(before + 7);
    net.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(net.mask.isDisposed).toBe(true);
  });
});
