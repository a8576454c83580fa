import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { withoutTape } from './without-tape.js';

const tape = () => (tf.engine() as unknown as { state: { activeTape: unknown[] } }).state.activeTape;

describe('withoutTape', () => {
  it('records no kernel call inside a gradient computation, and leaves the gradients of the rest unchanged', () => {
    const x = tf.tensor1d([1, -2, 3]);
    let lengths: number[] = []; // nodes recorded by withoutTape's f, and a value it computed
    const { value, grads } = tf.engine().gradients(() => {
      const y = tf.mul(x, x);
      const before = tape().length;
      const side = withoutTape(() => tf.add(tf.mul(y, 2), 1));
      lengths = [tape().length - before, side.dataSync()[1]];
      return tf.sum(y) as tf.Scalar;
    }, [x]);
    expect(lengths).toEqual([0, 9]);
    expect([...grads[0].dataSync()]).toEqual([2, -4, 6]);
    tf.dispose([x, value, ...grads]);
  });

  it('turns recording back on when f throws', () => {
    const x = tf.scalar(3);
    const { grads } = tf.engine().gradients(() => {
      expect(() => withoutTape(() => {
        throw new Error('inside');
      })).toThrow('inside');
      return tf.square(x) as tf.Scalar;
    }, [x]);
    expect(grads[0].dataSync()[0]).toBe(6);
    tf.dispose([x, ...grads]);
  });
});
