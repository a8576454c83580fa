import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addonCandidates } from './addon-variant.js';

/**
 * The oneDNN addon. Tensors are NHWC Float32Arrays; dense filters are `[kh, kw, in, out]`,
 * grouped filters `[kh, kw, channels, multiplier]` with `groups = channels`.
 */
export interface OneDnnBinding {
  /**
   * mode 0: `out = conv(a = x, b = filter)`; 1: `out = dx` from `(a = dy, b = filter)`;
   * 2: `out = dFilter` from `(a = x, b = dy)`. `params`: `[n, h, w, c, outH, outW, outC, kh, kw,
   * groups, strideH, strideW, dilationH, dilationW, padTop, padLeft]` (dilation 1 = dense).
   */
  conv(mode: 0 | 1 | 2, a: Float32Array, b: Float32Array, out: Float32Array, params: Int32Array): void;
  /** `out[batch] = op(a)[batch] · op(b)[batch]`; `params`: `[batchA, batchB, m, k, n, transposeA, transposeB]`, a batch of 1 broadcasts. */
  matMul(a: Float32Array, b: Float32Array, out: Float32Array, params: Int32Array): void;
  /**
   * `out[o] = op(a[i], b[j])` over the n-D index space `shape`, each operand at its own offset and
   * strides (0 broadcasts). op: 0 copy, 1 add, 2 sub, 3 mul, 4 div, 5 max, 6 min, 7 squared difference,
   * 10/11/12 sum/max/min into `out`, 20 relu, 21 step, 22 square.
   */
  strided(op: number, shape: Int32Array, out: Float32Array, outOffset: number, outStrides: Int32Array, a: Float32Array, aOffset: number, aStrides: Int32Array, b?: Float32Array, bOffset?: number, bStrides?: Int32Array): void;
  /** Training-mode batch norm without scale/shift over `rows` rows of `channels`; writes `y`, `mean` and the biased `variance`. */
  batchNorm(x: Float32Array, y: Float32Array, mean: Float32Array, variance: Float32Array, params: Int32Array, epsilon: number): void;
  /** The input gradient of `batchNorm` (its mean and variance depend on `x` too). `params`: `[rows, channels]`. */
  batchNormGrad(dy: Float32Array, x: Float32Array, mean: Float32Array, variance: Float32Array, dx: Float32Array, params: Int32Array, epsilon: number): void;
  /** `batchNorm` followed by `y · scale + offset` per channel, in the same pass. */
  affineBatchNorm(x: Float32Array, scale: Float32Array, offset: Float32Array, y: Float32Array, mean: Float32Array, variance: Float32Array, params: Int32Array, epsilon: number): void;
  /** The gradients of `affineBatchNorm`: `dx`, `dScale = Σ dy · x̂`, `dOffset = Σ dy`. */
  affineBatchNormGrad(dy: Float32Array, x: Float32Array, mean: Float32Array, variance: Float32Array, scale: Float32Array, dx: Float32Array, dScale: Float32Array, dOffset: Float32Array, params: Int32Array, epsilon: number): void;
  /** 3×3 pool, stride 1, padding 1 (never the max; not counted in the average). mode 0 max, 1 average; `params`: `[n, h, w, c]`. */
  pool3x3(mode: 0 | 1, x: Float32Array, y: Float32Array, params: Int32Array): void;
  /** The input gradient of `pool3x3`; a max sends it to the first maximum of each window in row-major order. */
  pool3x3Grad(mode: 0 | 1, x: Float32Array, dy: Float32Array, dx: Float32Array, params: Int32Array): void;
  /**
   * `out[n, i, j, c] = Σ_{y, x} rows[i, y] · columns[j, x] · x[n, y, x, c]` from the matrices' nonzeros;
   * `params`: `[n, h, w, c, outH, outW]`. The matrices are `[outH, h]` and `[outW, w]`, or with
   * `transposed` `[h, outH]` and `[w, outW]`, applied transposed (the gradient of the forward).
   */
  resample(x: Float32Array, rows: Float32Array, columns: Float32Array, out: Float32Array, params: Int32Array, transposed: boolean): void;
  /** `out = Σ_i weights[i] · terms[i]`, every term as long as `out`. */
  weightedSum(weights: Float32Array, terms: Float32Array[], out: Float32Array): void;
  /** Gradients of `weightedSum`: `dWeights[i] = ⟨dy, terms[i]⟩`, `dTerms[i] = weights[i] · dy`. */
  weightedSumGrad(dy: Float32Array, weights: Float32Array, terms: Float32Array[], dWeights: Float32Array, dTerms: Float32Array[]): void;
  /** SGD with momentum, L2 weight decay in the gradient (PyTorch's formula); `hyper`: `[lr, momentum, weightDecay]`. */
  sgdMomentum(value: Float32Array, velocity: Float32Array, gradient: Float32Array, outValue: Float32Array, outVelocity: Float32Array, hyper: Float64Array): void;
  /** Adam with L2 weight decay and bias correction; `hyper`: `[lr, beta1, beta2, epsilon, weightDecay, 1 − beta1^t, 1 − beta2^t]`. */
  adam(value: Float32Array, first: Float32Array, second: Float32Array, gradient: Float32Array, outValue: Float32Array, outFirst: Float32Array, outSecond: Float32Array, hyper: Float64Array): void;
  /**
   * Softmax cross-entropy of `[pixels, classes]` logits (`params`: `[pixels, classes]`) with int32 labels, averaged
   * over the pixels not labelled `ignore` (0 when all are), into `out[0]`. A label outside [0, classes) counts but picks nothing.
   */
  crossEntropy(logits: Float32Array, labels: Int32Array, out: Float32Array, params: Int32Array, ignore: number): void;
  /** Its gradient times `dy`: (softmax − one-hot) · dy / count on counted pixels, 0 on ignored ones. */
  crossEntropyGrad(logits: Float32Array, labels: Int32Array, dx: Float32Array, params: Int32Array, ignore: number, dy: number): void;
  /** Sets the OpenMP threads oneDNN runs on, when given (>= 1); returns the count in effect. */
  threads(count?: number): number;
  /** The instruction set oneDNN's kernels use here, as `ONEDNN_MAX_CPU_ISA` names it (`AVX2`, `AVX512_CORE`, …). */
  cpuIsa(): string;
  /**
   * A zeroed buffer of `bytes` in its own mapping, marked for transparent huge pages (first touches
   * fault 2 MiB at once); unmapped when it is garbage collected.
   */
  allocate(bytes: number): ArrayBuffer;
  /**
   * Gives the whole pages of `buffer` back to the system; its contents become zeros. Only for a buffer
   * nothing reads again (the pool's dropped arrays), until the garbage collector frees it. Returns the bytes given back.
   */
  discard(buffer: ArrayBuffer): number;
}

/** Why the addon at `root` (the package folder) did not load, for the backend selector's line. */
export function addonLoadFailure(root: string, error: unknown): string {
  const skipped = join(root, 'build', 'skipped.txt');
  if (existsSync(skipped)) return `not built: ${readFileSync(skipped, 'utf8').trim()}`;
  // No build folder at all: the install script never ran, which is what pnpm 10 does to a
  // dependency's install script until the user approves it.
  if (!existsSync(join(root, 'build'))) return 'not built: its install script did not run (pnpm: `pnpm approve-builds`, then `pnpm rebuild @adl/onednn`)';
  return `could not load the addon: ${firstLine(error)}`;
}

const firstLine = (error: unknown) => String((error as Error)?.message).split('\n')[0];

/**
 * The compiled addon, or why it is missing. Loading never throws. The build for the CPU the package
 * was built on is used where this CPU has every flag that one had, else the portable build
 * (addon-variant.ts). `ADL_ONEDNN_ADDON` names another build to load instead (the memory checks').
 */
function load(): { binding: OneDnnBinding | null; reason: string | null; file: string } {
  // dist/ and src/ both sit one level below the package root, beside build/.
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const chosen = process.env.ADL_ONEDNN_ADDON;
  const candidates = chosen ? [chosen] : addonCandidates(join(root, 'build', 'Release'));
  let failure: unknown;
  for (const file of candidates) {
    try {
      return { binding: createRequire(import.meta.url)(file) as OneDnnBinding, reason: null, file };
    } catch (error) {
      failure = error;
    }
  }
  const reason = chosen ? `could not load ADL_ONEDNN_ADDON=${chosen}: ${firstLine(failure)}` : addonLoadFailure(root, failure);
  return { binding: null, reason, file: candidates.at(-1)! };
}

const loaded = load();
/** The addon file loaded (or tried): the build for this CPU, the portable one, or `ADL_ONEDNN_ADDON`. */
export const addonFile: string = loaded.file;
/** The addon, or `null` when it was not built or does not load. */
export const binding: OneDnnBinding | null = loaded.binding;
/** Why `binding` is `null`. */
export const reason: string | null = loaded.reason;
