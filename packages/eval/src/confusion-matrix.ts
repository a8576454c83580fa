/** Typed arrays of integer class ids (predictions or labels). */
export type ClassIds = Uint8Array | Uint16Array | Uint32Array | Int8Array | Int16Array | Int32Array | Uint8ClampedArray | readonly number[];

export interface SegmentationMetrics {
  /** Mean IoU over classes whose union is not empty (design §8). */
  readonly miou: number;
  /** Correct pixels / counted pixels. */
  readonly pixelAccuracy: number;
  /** Per-class IoU = TP / (TP + FP + FN); NaN where the union is 0. */
  readonly iou: number[];
  /** Counted (non-ignored) pixels. */
  readonly pixels: number;
}

/**
 * A confusion matrix accumulated over a whole split (design §8): `counts[label · n + prediction]`.
 * Pixels whose label is `ignoreIndex` are not counted; a label or prediction outside 0..n−1 (other
 * than the ignored label) is an error.
 */
export class ConfusionMatrix {
  readonly counts: Float64Array;
  readonly ignoreIndex: number;

  constructor(
    readonly numClasses: number,
    { ignoreIndex = 255 }: { ignoreIndex?: number } = {},
  ) {
    if (!Number.isInteger(numClasses) || numClasses < 1) throw new RangeError(`numClasses must be a positive integer, got ${numClasses}`);
    this.counts = new Float64Array(numClasses * numClasses);
    this.ignoreIndex = ignoreIndex;
  }

  /** Adds one image (or batch): predictions and labels of the same length. */
  update(prediction: ClassIds, label: ClassIds): this {
    if (prediction.length !== label.length) {
      throw new RangeError(`prediction has ${prediction.length} pixels, label has ${label.length}`);
    }
    const n = this.numClasses;
    for (let i = 0; i < label.length; i++) {
      const truth = label[i];
      if (truth === this.ignoreIndex) continue;
      const predicted = prediction[i];
      if (!(truth >= 0 && truth < n && Number.isInteger(truth))) throw new RangeError(`label ${truth} at pixel ${i} is not a class (0..${n - 1}) or ${this.ignoreIndex}`);
      if (!(predicted >= 0 && predicted < n && Number.isInteger(predicted))) throw new RangeError(`prediction ${predicted} at pixel ${i} is not a class (0..${n - 1})`);
      this.counts[truth * n + predicted]++;
    }
    return this;
  }

  /** Adds another matrix (e.g. from another worker). */
  merge(other: ConfusionMatrix): this {
    if (other.numClasses !== this.numClasses) throw new RangeError(`cannot merge ${other.numClasses} classes into ${this.numClasses}`);
    for (let i = 0; i < this.counts.length; i++) this.counts[i] += other.counts[i];
    return this;
  }

  metrics(): SegmentationMetrics {
    const n = this.numClasses;
    const iou: number[] = [];
    let correct = 0;
    let pixels = 0;
    for (let c = 0; c < n; c++) {
      let labelled = 0;
      let predicted = 0;
      for (let k = 0; k < n; k++) {
        labelled += this.counts[c * n + k];
        predicted += this.counts[k * n + c];
      }
      const truePositive = this.counts[c * n + c];
      const union = labelled + predicted - truePositive;
      iou.push(union === 0 ? NaN : truePositive / union);
      correct += truePositive;
      pixels += labelled;
    }
    const present = iou.filter((value) => !Number.isNaN(value));
    return {
      miou: present.length ? present.reduce((a, b) => a + b, 0) / present.length : NaN,
      pixelAccuracy: pixels ? correct / pixels : NaN,
      iou,
      pixels,
    };
  }
}
