export {
  CITYSCAPES_LABELS,
  IGNORE_INDEX,
  MAX_LABEL_ID,
  NUM_TRAIN_CLASSES,
  TRAIN_CLASS_NAMES,
  TRAIN_ID_LUT,
  TRAIN_ID_PALETTE,
  TRAIN_ID_TO_LABEL_ID,
  labelIdToTrainId,
  type CityscapesLabel,
} from './labels.js';
export { DatasetError } from './dataset-error.js';
export { listSplit, splitFolder, imageFileOf, labelFileOf, SPLITS, IMAGE_SUFFIX, LABEL_SUFFIX, type CityscapesSample, type Split } from './layout.js';
export { readLabelPng, readPng, writePng, type LabelImage, type RasterImage } from './png.js';
export { removeWriteLeftovers, writeFileAtomic, WriteError } from './atomic-write.js';
export { loadSample, type LoadedSample } from './load-sample.js';
export {
  augment,
  cropAndNormalize,
  scaledCrop,
  slidingWindows,
  windowStarts,
  DEFAULT_AUGMENT,
  IMAGENET_MEAN,
  IMAGENET_STD,
  type AugmentOptions,
  type LabelledImage,
  type TrainingExample,
} from './augment.js';
export { BatchLoader, DatasetErrors, type Batch, type BatchLoaderOptions, type BadFilePolicy, type LoaderPosition } from './batch-loader.js';
export { splitTrainAB } from './split.js';
export { SeededRandom } from './seeded-random.js';
export { generateSynthetic, SYNTHETIC_LABEL_IDS, type SyntheticOptions } from './synthetic.js';
export { generateKnownAnswerTask, KNOWN_ANSWER_LABEL_IDS, KNOWN_ANSWER_TASKS, type KnownAnswerOptions, type KnownAnswerTask } from './known-answer-tasks.js';
