import { loadSample, type CityscapesSample } from '@adl/data-cityscapes';
import { ConfusionMatrix } from '@adl/eval';

/**
 * The mIoU of the best constant prediction: every pixel of `val` labelled with the most frequent
 * class of `train`. A trained net must beat it clearly to have learned anything spatial.
 */
export async function majorityClassMiou(train: readonly CityscapesSample[], val: readonly CityscapesSample[], numClasses: number): Promise<{ trainId: number; miou: number; pixelAccuracy: number }> {
  const counts = new Float64Array(numClasses);
  for (const sample of train) for (const id of (await loadSample(sample)).trainIds) if (id < numClasses) counts[id]++;
  const trainId = counts.indexOf(Math.max(...counts));
  const matrix = new ConfusionMatrix(numClasses);
  for (const sample of val) {
    const { trainIds } = await loadSample(sample);
    matrix.update(new Uint8Array(trainIds.length).fill(trainId), trainIds);
  }
  const { miou, pixelAccuracy } = matrix.metrics();
  return { trainId, miou, pixelAccuracy };
}
