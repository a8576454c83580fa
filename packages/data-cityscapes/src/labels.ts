/**
 * The Cityscapes label definitions (cityscapesScripts `labels.py`): label id, name, train id
 * (255 = ignored in training and evaluation) and colour. design §8.
 */
export interface CityscapesLabel {
  readonly id: number;
  readonly name: string;
  readonly trainId: number;
  readonly color: readonly [number, number, number];
}

export const IGNORE_INDEX = 255;

export const CITYSCAPES_LABELS: readonly CityscapesLabel[] = [
  { id: 0, name: 'unlabeled', trainId: 255, color: [0, 0, 0] },
  { id: 1, name: 'ego vehicle', trainId: 255, color: [0, 0, 0] },
  { id: 2, name: 'rectification border', trainId: 255, color: [0, 0, 0] },
  { id: 3, name: 'out of roi', trainId: 255, color: [0, 0, 0] },
  { id: 4, name: 'static', trainId: 255, color: [0, 0, 0] },
  { id: 5, name: 'dynamic', trainId: 255, color: [111, 74, 0] },
  { id: 6, name: 'ground', trainId: 255, color: [81, 0, 81] },
  { id: 7, name: 'road', trainId: 0, color: [128, 64, 128] },
  { id: 8, name: 'sidewalk', trainId: 1, color: [244, 35, 232] },
  { id: 9, name: 'parking', trainId: 255, color: [250, 170, 160] },
  { id: 10, name: 'rail track', trainId: 255, color: [230, 150, 140] },
  { id: 11, name: 'building', trainId: 2, color: [70, 70, 70] },
  { id: 12, name: 'wall', trainId: 3, color: [102, 102, 156] },
  { id: 13, name: 'fence', trainId: 4, color: [190, 153, 153] },
  { id: 14, name: 'guard rail', trainId: 255, color: [180, 165, 180] },
  { id: 15, name: 'bridge', trainId: 255, color: [150, 100, 100] },
  { id: 16, name: 'tunnel', trainId: 255, color: [150, 120, 90] },
  { id: 17, name: 'pole', trainId: 5, color: [153, 153, 153] },
  { id: 18, name: 'polegroup', trainId: 255, color: [153, 153, 153] },
  { id: 19, name: 'traffic light', trainId: 6, color: [250, 170, 30] },
  { id: 20, name: 'traffic sign', trainId: 7, color: [220, 220, 0] },
  { id: 21, name: 'vegetation', trainId: 8, color: [107, 142, 35] },
  { id: 22, name: 'terrain', trainId: 9, color: [152, 251, 152] },
  { id: 23, name: 'sky', trainId: 10, color: [70, 130, 180] },
  { id: 24, name: 'person', trainId: 11, color: [220, 20, 60] },
  { id: 25, name: 'rider', trainId: 12, color: [255, 0, 0] },
  { id: 26, name: 'car', trainId: 13, color: [0, 0, 142] },
  { id: 27, name: 'truck', trainId: 14, color: [0, 0, 70] },
  { id: 28, name: 'bus', trainId: 15, color: [0, 60, 100] },
  { id: 29, name: 'caravan', trainId: 255, color: [0, 0, 90] },
  { id: 30, name: 'trailer', trainId: 255, color: [0, 0, 110] },
  { id: 31, name: 'train', trainId: 16, color: [0, 80, 100] },
  { id: 32, name: 'motorcycle', trainId: 17, color: [0, 0, 230] },
  { id: 33, name: 'bicycle', trainId: 18, color: [119, 11, 32] },
];

/** Highest label id that may appear in a `*_gtFine_labelIds.png`. */
export const MAX_LABEL_ID = 33;

export const NUM_TRAIN_CLASSES = 19;

/** Class names by train id 0..18. */
export const TRAIN_CLASS_NAMES: readonly string[] = Array.from(
  { length: NUM_TRAIN_CLASSES },
  (_, trainId) => CITYSCAPES_LABELS.find((label) => label.trainId === trainId)!.name,
);

/** The official colours by train id 0..18 (colourised predictions). */
export const TRAIN_ID_PALETTE: readonly (readonly [number, number, number])[] = Array.from(
  { length: NUM_TRAIN_CLASSES },
  (_, trainId) => CITYSCAPES_LABELS.find((label) => label.trainId === trainId)!.color,
);

/** Label id of each train id 0..18 (for writing predictions in the submission format). */
export const TRAIN_ID_TO_LABEL_ID: readonly number[] = Array.from(
  { length: NUM_TRAIN_CLASSES },
  (_, trainId) => CITYSCAPES_LABELS.find((label) => label.trainId === trainId)!.id,
);

/** 256-entry lookup table labelId → trainId; every id that is not a training class maps to 255. */
export const TRAIN_ID_LUT: Uint8Array = (() => {
  const lut = new Uint8Array(256).fill(IGNORE_INDEX);
  for (const { id, trainId } of CITYSCAPES_LABELS) lut[id] = trainId;
  return lut;
})();

/** labelId → trainId (design §8): 7→0, 8→1, 11→2, …, 33→18, anything else → 255. */
export function labelIdToTrainId(labelId: number): number {
  return Number.isInteger(labelId) && labelId >= 0 && labelId < 256 ? TRAIN_ID_LUT[labelId] : IGNORE_INDEX;
}
