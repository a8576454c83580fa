import { augment, DEFAULT_AUGMENT, type AugmentOptions, type TrainingExample } from './augment.js';
import { DatasetError } from './dataset-error.js';
import type { CityscapesSample } from './layout.js';
import { loadSample } from './load-sample.js';
import { SeededRandom } from './seeded-random.js';

/** What to do with a file that cannot be used: stop the run with the list, or skip it and count. */
export type BadFilePolicy = 'stop' | 'skip';

export interface BatchLoaderOptions {
  readonly samples: readonly CityscapesSample[];
  readonly batchSize: number;
  readonly augment?: AugmentOptions;
  readonly seed?: number;
  /** Batches decoded ahead of the one being used (decoding runs off the JavaScript thread). */
  readonly prefetch?: number;
  readonly onBadFile?: BadFilePolicy;
  /** Called for every skipped file under `onBadFile: 'skip'`; logs to stderr by default. */
  readonly onSkip?: (error: DatasetError, skippedSoFar: number) => void;
}

/** Where a loader is: resuming from a position replays exactly the batches that follow it. */
export interface LoaderPosition {
  readonly epoch: number;
  readonly batch: number;
}

export interface Batch extends LoaderPosition {
  readonly names: string[];
  readonly size: number;
  readonly height: number;
  readonly width: number;
  /** `size · height · width · 3` normalised NHWC values. */
  readonly images: Float32Array;
  /** `size · height · width` train ids. */
  readonly trainIds: Uint8Array;
}

/** Several unusable files, listed one per line. */
export class DatasetErrors extends Error {
  override name = 'DatasetErrors';

  constructor(readonly errors: DatasetError[]) {
    super(`${errors.length} unusable file(s):\n${errors.map((e) => `  ${e.message}`).join('\n')}`);
  }
}

/** A stream seed for (seed, epoch, index) so every example is reproducible on its own. */
function streamSeed(seed: number, epoch: number, index: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const value of [epoch, index]) {
    h = Math.imul(h ^ value, 0x85ebca6b) >>> 0;
    h = (h ^ (h >>> 13)) >>> 0;
  }
  return h;
}

/**
 * Shuffled, augmented batches with background prefetch. The order of epoch e is a seeded shuffle;
 * each example's augmentation has its own seeded stream, so results do not depend on prefetch depth
 * and a run resumed at a `LoaderPosition` sees the same batches as an uninterrupted one. Incomplete
 * final batches are dropped.
 */
export class BatchLoader {
  readonly batchesPerEpoch: number;
  private readonly options: Required<Omit<BatchLoaderOptions, 'onSkip'>> & Pick<BatchLoaderOptions, 'onSkip'>;
  private readonly skippedErrors: DatasetError[] = [];

  constructor(options: BatchLoaderOptions) {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${options.batchSize}`);
    if (options.samples.length < options.batchSize) {
      throw new RangeError(`${options.samples.length} samples cannot fill one batch of ${options.batchSize}`);
    }
    this.options = { augment: DEFAULT_AUGMENT, seed: 0, prefetch: 2, onBadFile: 'stop', ...options };
    this.batchesPerEpoch = Math.floor(options.samples.length / options.batchSize);
  }

  /** Files skipped so far under `onBadFile: 'skip'`. */
  get skipped(): readonly DatasetError[] {
    return this.skippedErrors;
  }

  /** The samples of batch `batch` of epoch `epoch`, in order. */
  batchSamples({ epoch, batch }: LoaderPosition): CityscapesSample[] {
    const order = new SeededRandom(streamSeed(this.options.seed, epoch, -1)).shuffle(this.options.samples);
    return order.slice(batch * this.options.batchSize, (batch + 1) * this.options.batchSize);
  }

  /** Loads and augments one batch. */
  async load(position: LoaderPosition): Promise<Batch> {
    const samples = this.batchSamples(position);
    const results = await Promise.allSettled(samples.map((sample) => loadSample(sample)));
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    for (const failure of failures) if (!(failure instanceof DatasetError)) throw failure;
    if (failures.length > 0) {
      if (this.options.onBadFile === 'stop') throw new DatasetErrors(failures as DatasetError[]);
      for (const failure of failures as DatasetError[]) {
        this.skippedErrors.push(failure);
        (this.options.onSkip ?? ((e, n) => console.error(`[adl] skipped ${e.message} (${n} skipped so far)`)))(failure, this.skippedErrors.length);
      }
    }
    const examples: (TrainingExample & { name: string })[] = [];
    results.forEach((result, i) => {
      if (result.status !== 'fulfilled') return;
      const random = new SeededRandom(streamSeed(this.options.seed, position.epoch, position.batch * this.options.batchSize + i));
      examples.push({ ...augment(result.value, this.options.augment, random), name: result.value.name });
    });
    return stack(examples, position);
  }

  /** Batches from `from` on, for `epochs` epochs counted from epoch 0, with prefetch. */
  async *batches(epochs: number, from: LoaderPosition = { epoch: 0, batch: 0 }): AsyncGenerator<Batch> {
    const positions: LoaderPosition[] = [];
    for (let epoch = from.epoch; epoch < epochs; epoch++) {
      for (let batch = epoch === from.epoch ? from.batch : 0; batch < this.batchesPerEpoch; batch++) positions.push({ epoch, batch });
    }
    const inFlight: Promise<Batch>[] = [];
    let next = 0;
    const fill = () => {
      while (inFlight.length <= this.options.prefetch && next < positions.length) {
        const pending = this.load(positions[next++]);
        // A batch that fails while queued is reported when its turn comes, not as an unhandled rejection.
        pending.catch(() => undefined);
        inFlight.push(pending);
      }
    };
    fill();
    while (inFlight.length > 0) {
      const batch = await inFlight.shift()!;
      fill();
      if (batch.size > 0) yield batch;
    }
  }
}

function stack(examples: (TrainingExample & { name: string })[], position: LoaderPosition): Batch {
  const [first] = examples;
  const height = first?.height ?? 0;
  const width = first?.width ?? 0;
  const images = new Float32Array(examples.length * height * width * 3);
  const trainIds = new Uint8Array(examples.length * height * width);
  examples.forEach((example, i) => {
    images.set(example.pixels, i * height * width * 3);
    trainIds.set(example.trainIds, i * height * width);
  });
  return { ...position, names: examples.map((e) => e.name), size: examples.length, height, width, images, trainIds };
}
