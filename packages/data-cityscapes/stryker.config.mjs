import { strykerConfig } from '../../mutation/stryker.base.mjs';

// The files that carry the paper's rules (docs/mutation-testing.md).
export default strykerConfig([
  'src/labels.ts',
  'src/augment.ts',
  'src/split.ts',
]);
