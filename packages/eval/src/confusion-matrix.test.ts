import { describe, expect, it } from 'vitest';
import { ConfusionMatrix } from './confusion-matrix.js';

describe('ConfusionMatrix', () => {
  it('computes IoU, mIoU and pixel accuracy of a hand-worked case', () => {
    // label:      0 0 0 1 1 2 255 2
    // prediction: 0 0 1 1 2 2 0   0
    const matrix = new ConfusionMatrix(3).update(Uint8Array.from([0, 0, 1, 1, 2, 2, 0, 0]), Uint8Array.from([0, 0, 0, 1, 1, 2, 255, 2]));
    // class 0: TP 2, FP 1 (label 2 → 0), FN 1 (0 → 1): 2 / 4
    // class 1: TP 1, FP 1, FN 1: 1 / 3; class 2: TP 1, FP 1, FN 1: 1 / 3
    const { iou, miou, pixelAccuracy, pixels } = matrix.metrics();
    expect(iou).toEqual([0.5, 1 / 3, 1 / 3]);
    expect(miou).toBeCloseTo((0.5 + 2 / 3) / 3, 12);
    expect(pixelAccuracy).toBe(4 / 7);
    expect(pixels).toBe(7);
  });

  it('leaves a class whose union is 0 out of the mean (IoU NaN)', () => {
    const { iou, miou } = new ConfusionMatrix(4).update([0, 1, 1], [0, 1, 0]).metrics();
    expect(iou[2]).toBeNaN();
    expect(iou[3]).toBeNaN();
    expect(miou).toBeCloseTo((0.5 + 0.5) / 2, 12);
  });

  it('streams: two updates equal one over the concatenation; merge adds matrices', () => {
    const a = new ConfusionMatrix(3).update(Int32Array.from([0, 2]), Uint16Array.from([0, 1])).update([1, 1], [1, 2]);
    const b = new ConfusionMatrix(3).update([0, 2, 1, 1], [0, 1, 1, 2]);
    expect(a.counts).toEqual(b.counts);
    expect(new ConfusionMatrix(3).merge(a).merge(b).counts[1 * 3 + 2]).toBe(2);
  });

  it('rejects out-of-range ids and mismatched lengths', () => {
    const matrix = new ConfusionMatrix(2);
    expect(() => matrix.update([0], [0, 1])).toThrow(/prediction has 1 pixels, label has 2/);
    expect(() => matrix.update([0], [5])).toThrow(/label 5 at pixel 0 is not a class \(0..1\) or 255/);
    expect(() => matrix.update([3], [1])).toThrow(/prediction 3 at pixel 0/);
    expect(() => matrix.update([3], [255])).not.toThrow();
    // The first id past the classes, and ids that are not integers.
    expect(() => matrix.update([0], [2])).toThrow(/label 2 at pixel 0/);
    expect(() => matrix.update([2], [0])).toThrow(/prediction 2 at pixel 0/);
    expect(() => matrix.update([0], [0.5])).toThrow(/label 0.5 at pixel 0/);
    expect(() => matrix.update([0], [-1])).toThrow(/label -1 at pixel 0/);
    expect(() => matrix.update([1.5], [0])).toThrow(/prediction 1.5 at pixel 0/);
    expect(() => matrix.update([-1], [0])).toThrow(/prediction -1 at pixel 0/);
    expect(Array.from(matrix.counts)).toEqual([0, 0, 0, 0]);
  });

  it('needs a positive whole number of classes, and the same number to merge', () => {
    for (const bad of [0, -1, 1.5, NaN]) expect(() => new ConfusionMatrix(bad)).toThrow(/numClasses must be a positive integer/);
    expect(new ConfusionMatrix(1).update([0, 0], [0, 255]).metrics().miou).toBe(1);
    expect(() => new ConfusionMatrix(2).merge(new ConfusionMatrix(3))).toThrow(/cannot merge 3 classes into 2/);
  });
});
