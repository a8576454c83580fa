import { strykerConfig } from '../../mutation/stryker.base.mjs';

// The files that carry the paper's rules (docs/mutation-testing.md).
export default strykerConfig([
  'src/decode-cell.ts',
  'src/decode-path.ts',
  'src/viterbi.ts',
  'src/softmax.ts',
  'src/trellis-geometry.ts',
  'src/decode-architecture.ts',
]);
