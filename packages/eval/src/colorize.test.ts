import { describe, expect, it } from 'vitest';
import { TRAIN_ID_PALETTE } from '@adl/data-cityscapes';
import { blend, colorizeTrainIds, sideBySide, trainIdsToLabelIds } from './colorize.js';

describe('colourised predictions', () => {
  it('paints train ids in the Cityscapes colours and ignored pixels black', () => {
    const image = colorizeTrainIds(new Uint8Array([0, 13, 255, 18]), 2, 2);
    expect(Array.from(image.data)).toEqual([128, 64, 128, 0, 0, 142, 0, 0, 0, 119, 11, 32]);
    expect(TRAIN_ID_PALETTE[13]).toEqual([0, 0, 142]);
  });

  it('writes label ids in the submission format (road 7 … bicycle 33, ignored → 0)', () => {
    const ids = trainIdsToLabelIds(new Int32Array([0, 1, 2, 10, 18, 255]), 1, 6);
    expect(ids.channels).toBe(1);
    expect(Array.from(ids.data)).toEqual([7, 8, 11, 23, 33, 0]);
  });

  it('blends and places images side by side', () => {
    const a = { width: 1, height: 2, channels: 3 as const, data: new Uint8Array([0, 0, 0, 100, 100, 100]) };
    const b = { width: 1, height: 2, channels: 3 as const, data: new Uint8Array([200, 200, 200, 0, 0, 0]) };
    expect(Array.from(blend(a, b, 0.25).data)).toEqual([50, 50, 50, 75, 75, 75]);
    const both = sideBySide([a, b], 1);
    expect([both.width, both.height]).toEqual([3, 2]);
    expect(Array.from(both.data)).toEqual([0, 0, 0, 255, 255, 255, 200, 200, 200, 100, 100, 100, 255, 255, 255, 0, 0, 0]);
    expect(() => blend(a, { ...b, width: 2 })).toThrow(/differ/);
  });
});
