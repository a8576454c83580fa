import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { BatchNorm } from './batch-norm.js';
import { Conv2d } from './conv2d.js';
import { newVariable } from './new-variable.js';
import { Rng } from '@adl/backend';

describe('newVariable', () => {
  it('leaves only the variable behind, and nothing once it is disposed', () => {
    const before = tf.memory().numTensors;
    const v = newVariable(() => tf.ones([3]));
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(Array.from(v.dataSync())).toEqual([1, 1, 1]);
    v.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('layers built and disposed leave the tensor count where it was', () => {
    const before = tf.memory().numTensors;
    new BatchNorm(4, { affine: true }).dispose();
    new Conv2d({ inChannels: 2, outChannels: 3, kernel: 3, rng: new Rng(0), bias: true }).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
