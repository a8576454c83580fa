import { describe, expect, it } from 'vitest';
import { labelIdToTrainId, NUM_TRAIN_CLASSES, TRAIN_CLASS_NAMES, TRAIN_ID_LUT, TRAIN_ID_PALETTE, TRAIN_ID_TO_LABEL_ID } from './labels.js';

// design §8 (cityscapesScripts), written out independently of the label table.
const DESIGN_MAPPING: Record<number, number> = {
  7: 0, 8: 1, 11: 2, 12: 3, 13: 4, 17: 5, 19: 6, 20: 7, 21: 8, 22: 9, 23: 10,
  24: 11, 25: 12, 26: 13, 27: 14, 28: 15, 31: 16, 32: 17, 33: 18,
};

describe('labelId → trainId', () => {
  it('maps all 256 ids exactly as design §8 (everything else → 255)', () => {
    for (let id = 0; id < 256; id++) {
      const expected = DESIGN_MAPPING[id] ?? 255;
      expect(labelIdToTrainId(id)).toBe(expected);
      expect(TRAIN_ID_LUT[id]).toBe(expected);
    }
    expect(TRAIN_ID_LUT).toHaveLength(256);
  });

  it('sends out-of-range and non-integer ids to 255', () => {
    expect([-1, 256, 7.5, NaN].map(labelIdToTrainId)).toEqual([255, 255, 255, 255]);
  });

  it('has 19 classes with names, official colours and label ids for submissions', () => {
    expect(NUM_TRAIN_CLASSES).toBe(19);
    // cityscapesScripts `labels.py`, entry by entry.
    expect(TRAIN_CLASS_NAMES).toEqual([
      'road', 'sidewalk', 'building', 'wall', 'fence', 'pole', 'traffic light', 'traffic sign', 'vegetation', 'terrain',
      'sky', 'person', 'rider', 'car', 'truck', 'bus', 'train', 'motorcycle', 'bicycle',
    ]);
    expect(TRAIN_ID_PALETTE).toEqual([
      [128, 64, 128], [244, 35, 232], [70, 70, 70], [102, 102, 156], [190, 153, 153], [153, 153, 153], [250, 170, 30],
      [220, 220, 0], [107, 142, 35], [152, 251, 152], [70, 130, 180], [220, 20, 60], [255, 0, 0], [0, 0, 142],
      [0, 0, 70], [0, 60, 100], [0, 80, 100], [0, 0, 230], [119, 11, 32],
    ]);
    expect(TRAIN_ID_TO_LABEL_ID).toEqual(Object.keys(DESIGN_MAPPING).map(Number));
  });
});
