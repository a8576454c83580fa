import { strykerConfig } from '../../mutation/stryker.base.mjs';

// The files that carry the paper's rules (docs/mutation-testing.md).
export default strykerConfig([
  'src/mixed-op.ts',
  'src/search-cell.ts',
  'src/fixed-cell.ts',
  'src/cell-inputs.ts',
  'src/genotype.ts',
  'src/paper-genotype.ts',
]);
