import { strykerConfig } from '../../mutation/stryker.base.mjs';

// The files that carry the paper's rules (docs/mutation-testing.md): the optimizers' update
// formulas and training-mode batch normalisation.
export default strykerConfig([
  'src/optimizer-updates.ts',
  'src/batch-statistics.ts',
]);
