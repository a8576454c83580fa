import * as tf from '@tensorflow/tfjs';
import { CROSS_ENTROPY_KERNELS } from './fused-kernels.js';
import { dispatchGpuKernel, type KernelArgs } from './gpu-dispatch.js';
import { workgroupSumArrays, workgroupTreeSum } from './webgpu-programs.js';

/**
 * The pixel-wise cross-entropy (`CROSS_ENTROPY_KERNELS`) on webgpu: two dispatches forward (partial
 * sums per chunk of pixels, then their sum in chunk order, so every run gives the same bits) and
 * three backward (the counted pixels the same way, then one pass over the logits), where tfjs's ops
 * take about fifteen and keep several tensors of the logits' size.
 */

type TensorInfo = tf.TensorInfo;

const THREADS = 256;
/** Pixels one workgroup reduces: `PIXELS_PER_CHUNK / THREADS` per thread. */
const PIXELS_PER_CHUNK = 16 * THREADS;

function shapeOf(kernelName: string, logits: TensorInfo, labels: TensorInfo): { pixels: number; classes: number } {
  if (logits.dtype !== 'float32' || labels.dtype !== 'int32') throw new TypeError(`${kernelName} takes float32 logits and int32 labels`);
  if (!tf.util.arraysEqual(logits.shape.slice(0, -1), labels.shape)) throw new RangeError(`${kernelName}: labels ${labels.shape} do not match logits ${logits.shape}`);
  return { pixels: tf.util.sizeFromShape(labels.shape), classes: logits.shape[logits.shape.length - 1] };
}


/**
 * Per chunk of pixels: the summed −log softmax[label] of the pixels that pick a class (`withLoss`)
 * and the number of pixels not ignored; `[loss partials, count partials]` or `[count partials]`.
 */
function chunkSums(logits: TensorInfo | undefined, labels: TensorInfo, pixels: number, classes: number, ignoreIndex: number): TensorInfo[] {
  const chunks = Math.ceil(pixels / PIXELS_PER_CHUNK);
  const withLoss = logits !== undefined;
  return dispatchGpuKernel({
    name: withLoss ? 'adlCrossEntropyChunks' : 'adlCountedChunks',
    inputs: [...(withLoss ? ([['LOGITS', logits]] as const) : []), ['LABELS', labels]],
    outputs: withLoss ? [[chunks], [chunks]] : [[chunks]],
    uniforms: [
      { name: 'pixels', type: 'i32', value: pixels },
      { name: 'classes', type: 'i32', value: classes },
      { name: 'ignoreIndex', type: 'i32', value: ignoreIndex },
    ],
    threads: THREADS,
    workgroups: chunks,
    loopLength: (PIXELS_PER_CHUNK / THREADS) * (withLoss ? 2 * classes : 1),
    declarations: workgroupSumArrays(withLoss ? ['count', 'loss'] : ['count'], THREADS),
    body: `
      var count = 0.0;
      ${withLoss ? 'var loss = 0.0;' : ''}
      let lastPixel = min((group + 1) * ${PIXELS_PER_CHUNK}, u.pixels);
      for (var p = group * ${PIXELS_PER_CHUNK} + i32(lane); p < lastPixel; p = p + ${THREADS}) {
        let label = LABELS[p];
        if (label == u.ignoreIndex) { continue; }
        count = count + 1.0;
        ${withLoss ? `
        if (label < 0 || label >= u.classes) { continue; }
        let row = p * u.classes;
        var largest = LOGITS[row];
        for (var k = 1; k < u.classes; k = k + 1) { largest = max(largest, LOGITS[row + k]); }
        var sum = 0.0;
        for (var k = 0; k < u.classes; k = k + 1) { sum = sum + exp(LOGITS[row + k] - largest); }
        loss = loss - ((LOGITS[row + label] - largest) - log(sum));` : ''}
      }
      ${workgroupTreeSum(withLoss ? ['count', 'loss'] : ['count'], THREADS)}
      if (lane == 0u) { out0[group] = ${withLoss ? 'shared_loss[0]; out1[group] = shared_count[0]' : 'shared_count[0]'}; }`,
  });
}

/** Σ of `partials` in order, in one workgroup; divided by max(Σ counts, 1) where counts are given. */
function total(name: string, partials: TensorInfo, counts?: TensorInfo): TensorInfo {
  const chunks = partials.shape[0];
  const [sum] = dispatchGpuKernel({
    name,
    inputs: [['PARTIALS', partials], ...(counts ? ([['COUNTS', counts]] as const) : [])],
    outputs: [[]],
    uniforms: [{ name: 'chunks', type: 'i32', value: chunks }],
    threads: THREADS,
    workgroups: 1,
    loopLength: Math.ceil(chunks / THREADS),
    declarations: workgroupSumArrays(counts ? ['s', 'n'] : ['s'], THREADS),
    body: `
      var s = 0.0;
      ${counts ? 'var n = 0.0;' : ''}
      for (var c = i32(lane); c < u.chunks; c = c + ${THREADS}) { s = s + PARTIALS[c]; ${counts ? 'n = n + COUNTS[c];' : ''} }
      ${workgroupTreeSum(counts ? ['s', 'n'] : ['s'], THREADS)}
      if (lane == 0u) { out0[0] = ${counts ? 'shared_s[0] / max(shared_n[0], 1.0)' : 'shared_s[0]'}; }`,
  });
  return sum;
}

export function crossEntropy({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { logits, labels } = inputs as Record<'logits' | 'labels', TensorInfo>;
  const { pixels, classes } = shapeOf(CROSS_ENTROPY_KERNELS.forward, logits, labels);
  const [losses, counts] = chunkSums(logits, labels, pixels, classes, attrs!.ignoreIndex as number);
  const loss = total('adlCrossEntropyTotal', losses, counts);
  for (const t of [losses, counts]) backend.disposeData(t.dataId);
  return loss;
}

/** (softmax − one-hot) · dy / max(count, 1) on the counted pixels, 0 on the ignored ones. */
export function crossEntropyGrad({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { dy, logits, labels } = inputs as Record<'dy' | 'logits' | 'labels', TensorInfo>;
  const { pixels, classes } = shapeOf(CROSS_ENTROPY_KERNELS.gradient, logits, labels);
  if (dy.dtype !== 'float32') throw new TypeError(`${CROSS_ENTROPY_KERNELS.gradient} takes a float32 dy`);
  const ignoreIndex = attrs!.ignoreIndex as number;
  const [partials] = chunkSums(undefined, labels, pixels, classes, ignoreIndex);
  const count = total('adlCountedTotal', partials);
  const [dx] = dispatchGpuKernel({
    name: 'adlCrossEntropyGrad',
    inputs: [['DYS', dy], ['LOGITS', logits], ['LABELS', labels], ['COUNT', count]],
    outputs: [logits.shape],
    uniforms: [
      { name: 'pixels', type: 'i32', value: pixels },
      { name: 'classes', type: 'i32', value: classes },
      { name: 'ignoreIndex', type: 'i32', value: ignoreIndex },
    ],
    threads: 64,
    workgroups: Math.ceil(pixels / 64),
    loopLength: 3 * classes,
    body: `
      if (thread >= u.pixels) { return; }
      let label = LABELS[thread];
      let row = thread * u.classes;
      if (label == u.ignoreIndex) {
        for (var k = 0; k < u.classes; k = k + 1) { out0[row + k] = 0.0; }
        return;
      }
      let scale = DYS[0] / max(COUNT[0], 1.0);
      var largest = LOGITS[row];
      for (var k = 1; k < u.classes; k = k + 1) { largest = max(largest, LOGITS[row + k]); }
      var sum = 0.0;
      for (var k = 0; k < u.classes; k = k + 1) { let e = exp(LOGITS[row + k] - largest); out0[row + k] = e; sum = sum + e; }
      let gain = scale / sum;
      for (var k = 0; k < u.classes; k = k + 1) { out0[row + k] = out0[row + k] * gain; }
      if (label >= 0 && label < u.classes) { out0[row + label] = out0[row + label] - scale; }`,
  });
  for (const t of [partials, count]) backend.disposeData(t.dataId);
  return dx;
}
