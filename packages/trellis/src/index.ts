export { SuperNet, SEARCH_DEFAULTS, type CellsPer, type SuperNetOptions } from './supernet.js';
export { perEdgeToBatched, type SuperNetList } from './edge-layout.js';
export { FixedNet, RETRAIN_BATCH_NORM, asppRates, type FixedNetOptions, type StageCost } from './fixed-net.js';
export { fixedNetParameterCount } from './parameter-count.js';
export { DeepLabV3PlusDecoder, DECODER_CHANNELS, DECODER_PROJECTION_CHANNELS, type DeepLabV3PlusDecoderOptions } from './decoder.js';
export {
  ArchitectureError,
  ArchitectureSchema,
  assertValidPath,
  parseArchitecture,
  readArchitectureFile,
  type Architecture,
} from './architecture.js';
export { AUTO_DEEPLAB_PATH, PRESETS, PRESET_NAMES, getPreset, resolveArchitecture, type PresetName } from './presets.js';
export { levelSizes } from './levels.js';
