import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Kernels } from '@adl/backend';
import { listSplit, readPng } from '@adl/data-cityscapes';
import { imageTensor, onnxImageInput } from '@adl/eval';
import { loadTrainedNet } from '@adl/search';
import * as ort from 'onnxruntime-node';

/**
 * For the tests: the run's `model.onnx` in ONNX Runtime against the retrained net on the current backend,
 * on the first validation image: the largest |logit difference| and the largest |logit| (at least 1).
 */
export async function onnxAgainstNet(outDir: string, height: number, width: number, kernels: Kernels): Promise<{ difference: number; scale: number }> {
  const [sample] = await listSplit(join(outDir, 'data'), 'val');
  const png = await readPng(join(sample.root, sample.imageFile), 3);
  const session = await ort.InferenceSession.create(join(outDir, 'model.onnx'));
  const theirs = (await session.run({ image: new ort.Tensor('float32', onnxImageInput(png), [1, 3, height, width]) })).logits.data as Float32Array;
  const { net } = await loadTrainedNet(join(outDir, 'retrain', 'best'));
  const logits = tf.tidy(() => tf.transpose(net.apply(imageTensor(png), { training: false, kernels }), [0, 3, 1, 2]));
  const ours = (await logits.data()) as Float32Array;
  logits.dispose();
  net.dispose();
  const difference = ours.reduce((max, v, i) => Math.max(max, Math.abs(v - theirs[i])), 0);
  const scale = ours.reduce((max, v) => Math.max(max, Math.abs(v)), 1);
  return { difference, scale };
}
