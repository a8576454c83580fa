import { describe, expect, it } from 'vitest';
import { ConfusionMatrix } from './confusion-matrix.js';
import { iouTableJson, iouTableMarkdown } from './iou-table.js';

describe('IoU tables', () => {
  const metrics = new ConfusionMatrix(3).update([0, 0, 1, 1], [0, 0, 1, 0]).metrics();

  it('prints per-class IoU in percent, absent classes as —, then mIoU and pixel accuracy', () => {
    expect(iouTableMarkdown(metrics, ['road', 'sidewalk', 'building']).split('\n')).toEqual([
      '| id | class | IoU (%) |',
      '| ---: | --- | ---: |',
      '| 0 | road | 66.7 |',
      '| 1 | sidewalk | 50.0 |',
      '| 2 | building | — |',
      '| | **mIoU** | **58.3** |',
      '| | pixel accuracy | 75.0 |',
    ]);
  });

  it('serialises NaN as null', () => {
    const json = JSON.parse(JSON.stringify(iouTableJson(metrics, ['road', 'sidewalk'])));
    expect(json.classes[2]).toEqual({ trainId: 2, name: 'class 2', iou: null });
    expect(json.miou).toBeCloseTo(7 / 12, 12);
  });
});
