export { MixedOp, channelShuffle, type MixedOpOptions } from './mixed-op.js';
export { CellInputs, type CellInputChannels } from './cell-inputs.js';
export { SearchCell, batchedCellValues, DEFAULT_BLOCKS, type SearchCellOptions } from './search-cell.js';
export { StateEdges, stackPerEdge } from './state-edges.js';
export { FixedCell, type FixedCellOptions } from './fixed-cell.js';
export { assertValidGenotype, GenotypeError, type CellEdge, type Genotype } from './genotype.js';
export { AUTO_DEEPLAB_GENOTYPE } from './paper-genotype.js';
export { dropPath, dropPathRng, scheduledKeepProb } from './drop-path.js';
