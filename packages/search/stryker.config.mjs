import { strykerConfig } from '../../mutation/stryker.base.mjs';

// The files that carry the paper's rules (docs/mutation-testing.md).
export default strykerConfig([
  'src/search.ts',
  'src/retrain.ts',
  'src/search-config.ts',
  'src/training-loop.ts',
  'src/retrain-config.ts',
  'src/schedules.ts',
  'src/optimizers.ts',
  'src/loss.ts',
  'src/train-step.ts',
]);
