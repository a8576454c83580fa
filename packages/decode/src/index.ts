export { viterbi, type ViterbiInput, type ViterbiResult } from './viterbi.js';
export { decodePath, normalizeBetas, pathStrides, type DecodedPath } from './decode-path.js';
export { LEVELS, MOVES, levelStride, nodeExists, validMoves } from './trellis-geometry.js';
export { decodeCell, edgeCount, edgeIndex, type DecodeCellOptions, type GenotypeEdge } from './decode-cell.js';
export { logSoftmax, softmax } from './softmax.js';
export { DecodeError } from './decode-error.js';
export { decodeArchitecture, type DecodeArchitectureOptions, type DecodedArchitecture } from './decode-architecture.js';
