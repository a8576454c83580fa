import { strykerConfig } from '../../mutation/stryker.base.mjs';

// The files that carry the paper's rules (docs: mutation testing).
export default strykerConfig([
  'src/decode-cell.ts',
  'src/decode-path.ts',
  'src/viterbi.ts',
  'src/softmax.ts',
]);
