/** The sizes of one quickstart run: `full` (the README's demo, about 10 minutes on 2 cores) or `tiny` (its test). */
export interface QuickstartSettings {
  readonly images: { readonly train: number; readonly val: number; readonly height: number; readonly width: number };
  readonly search: {
    readonly epochs: number;
    readonly warmupEpochs: number;
    readonly stepsPerEpoch: number;
    readonly layers: number;
    readonly filterMultiplier: number;
    readonly crop: number;
    readonly valImages: number;
    /** Adam lr of α/β: 10× the paper's 3e-3, as this search makes a handful of architecture steps, not thousands. */
    readonly architectureLr: number;
  };
  readonly retrain: { readonly filterMultiplier: number; readonly asppChannels: number; readonly asppRates: [number, number, number]; readonly iterations: number; readonly evalEvery: number; readonly batchSize: number; readonly crop: number; readonly lr: number };
  /**
   * BatchNorm decay of the retraining: 0.9 (PyTorch's momentum 0.1), not the official 0.9997, whose
   * running statistics average over thousands of steps and would barely move in a 100-step run.
   */
  readonly retrainBatchNormDecay: number;
  /** Evaluation: input scales averaged, flip, PNGs written for this many images. */
  readonly eval: { readonly scales: number[]; readonly flip: boolean; readonly imagesWritten: number };
}

export const QUICKSTART_SETTINGS: Record<'full' | 'tiny', QuickstartSettings> = {
  full: {
    images: { train: 16, val: 4, height: 128, width: 256 },
    search: { epochs: 6, warmupEpochs: 2, stepsPerEpoch: 3, layers: 4, filterMultiplier: 2, crop: 32, valImages: 1, architectureLr: 0.03 },
    retrain: { filterMultiplier: 8, asppChannels: 32, asppRates: [2, 4, 6], iterations: 100, evalEvery: 25, batchSize: 4, crop: 128, lr: 0.05 },
    eval: { scales: [0.75, 1, 1.25], flip: true, imagesWritten: 4 },
    retrainBatchNormDecay: 0.9,
  },
  tiny: {
    images: { train: 4, val: 2, height: 32, width: 64 },
    search: { epochs: 2, warmupEpochs: 1, stepsPerEpoch: 1, layers: 2, filterMultiplier: 2, crop: 32, valImages: 1, architectureLr: 0.03 },
    retrain: { filterMultiplier: 2, asppChannels: 8, asppRates: [1, 2, 3], iterations: 2, evalEvery: 1, batchSize: 2, crop: 32, lr: 0.05 },
    eval: { scales: [1], flip: true, imagesWritten: 2 },
    retrainBatchNormDecay: 0.9,
  },
};
