import * as tf from '@tensorflow/tfjs';
import { kernelsFor } from '@adl/backend';
import { describe, expect, it } from 'vitest';
import { addCosts, convCost, Sequential, ZERO_COST } from './layer.js';
import { Identity, Relu } from './simple-layers.js';

describe('costs', () => {
  it('add field by field', () => {
    const a = { params: 1, multAdds: 10, tfMultAdds: 100 };
    const b = { params: 2, multAdds: 20, tfMultAdds: 200 };
    expect(addCosts(a, b, ZERO_COST)).toEqual({ params: 3, multAdds: 30, tfMultAdds: 300 });
    expect(addCosts()).toEqual(ZERO_COST);
  });

  it('count a dilated conv at its output size, and as TensorFlow runs it: each side rounded up to the rate', () => {
    expect(convCost(5, 7, [9, 10], 1)).toEqual({ params: 5, multAdds: 630, tfMultAdds: 630 });
    expect(convCost(5, 7, [9, 10], 4)).toEqual({ params: 5, multAdds: 630, tfMultAdds: 12 * 12 * 7 });
  });
});

describe('Sequential', () => {
  it('in inference keeps only its output (each intermediate goes once the next layer read it); in training keeps all for the gradient', () => {
    const chain = new Sequential([new Relu(), new Relu(), new Identity(), new Relu()]);
    const x = tf.randomNormal([1, 5, 5, 2]) as tf.Tensor4D;
    const kernels = kernelsFor(tf.getBackend());
    for (const [training, kept] of [[false, 1], [true, 3]] as const) {
      tf.dispose(chain.apply(x, { training, kernels })); // kernel caches of constants are made on the first call
      const before = tf.memory().numTensors;
      const out = chain.apply(x, { training, kernels });
      expect(tf.memory().numTensors - before).toBe(kept);
      expect(out.isDisposed).toBe(false);
      tf.dispose(out);
    }
    expect(x.isDisposed).toBe(false);
    x.dispose();
  });
});
