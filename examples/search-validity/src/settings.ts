/** The sizes of a validity run: `full` (several seeds) or `quick` (`QUICK=1`: one seed of each task). */
export interface ValiditySettings {
  readonly seeds: readonly number[];
  /** Images per task: trainA and trainB get half the train images each. */
  readonly images: { readonly train: number; readonly size: number };
  readonly search: {
    readonly layers: number;
    readonly filterMultiplier: number;
    readonly epochs: number;
    readonly warmupEpochs: number;
    readonly stepsPerEpoch: number;
    /** Adam lr of α/β: 10× the paper's 3e-3, as this search makes tens of architecture steps, not thousands. */
    readonly architectureLr: number;
    /** One search cell per incoming edge of a node (the default) or per node. */
    readonly cells?: 'per-edge' | 'per-node';
  };
}

export const VALIDITY_SETTINGS: Record<'full' | 'quick', ValiditySettings> = {
  full: {
    seeds: [0, 1, 2],
    images: { train: 32, size: 64 },
    search: { layers: 4, filterMultiplier: 4, epochs: 12, warmupEpochs: 4, stepsPerEpoch: 8, architectureLr: 0.03 },
  },
  quick: {
    seeds: [0],
    images: { train: 32, size: 64 },
    search: { layers: 4, filterMultiplier: 4, epochs: 12, warmupEpochs: 4, stepsPerEpoch: 8, architectureLr: 0.03 },
  },
};
