import { describe, expect, it } from 'vitest';
import { addCosts, convCost, ZERO_COST } from './layer.js';

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
